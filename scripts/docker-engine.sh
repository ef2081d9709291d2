#!/usr/bin/env bash
# Make a Docker engine answer on this machine, for the local-parity tests and `python -m ops local`.
#
# 1. When `docker` or `dockerd` is missing and we are root on Debian/Ubuntu, install docker.io
#    (and docker-registry, the local registry the buildspec test pushes to).
# 2. When no engine answers `docker info`, start dockerd in the background (log: /tmp/dockerd.log).
# 3. Wait until `docker info` works. Exit non-zero with one clear sentence when it cannot.
set -uo pipefail

log() { echo "docker-engine: $*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

need_packages=()
command -v docker >/dev/null 2>&1 || need_packages+=(docker.io)
command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
command -v debootstrap >/dev/null 2>&1 || need_packages+=(debootstrap)
if [ "${#need_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${need_packages[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need_packages[@]}" | sort -u) >/dev/null; }; then
      log "apt-get could not install ${need_packages[*]}; install them by hand."
    fi
  else
    log "missing ${need_packages[*]} and not root with apt-get; install them by hand."
  fi
fi

if ! command -v docker >/dev/null 2>&1; then
  log "no docker client on PATH; install docker.io (Debian) or Docker Engine."
  exit 1
fi

if engine_answers; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "no Docker engine answers and dockerd is not installed; install docker.io."
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  log "no Docker engine answers and only root can start dockerd here; start it (e.g. 'sudo dockerd &') and retry."
  exit 1
fi

# A stale pid file from an engine that died makes dockerd refuse to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid 2>/dev/null)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd in the background (log: /tmp/dockerd.log)"
  # The engine outlives this script, so it must not inherit any descriptor beyond 0-2: a caller's lock
  # (`flock some.lock scripts/test.sh`) would otherwise stay held for as long as dockerd runs.
  (
    for fd in /proc/self/fd/*; do
      fd="${fd##*/}"
      [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
    done
    exec nohup dockerd </dev/null >/tmp/dockerd.log 2>&1
  ) &
fi

for _ in $(seq 1 60); do
  if engine_answers; then
    log "engine is up"
    exit 0
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    break
  fi
  sleep 1
done

log "dockerd did not answer within 60 s; the last lines of /tmp/dockerd.log:"
tail -n 15 /tmp/dockerd.log >&2 2>/dev/null || true
exit 1
