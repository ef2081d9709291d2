#!/usr/bin/env bash
# Build the local base image (default tag serverless-containers/base:local) without any image registry:
# a minimal Debian trixie root filesystem from debootstrap, with Node.js 20 and Python 3 from Debian,
# imported with `docker import`. The sample apps' Dockerfiles take it as `--build-arg BASE_IMAGE=...`.
#
# Built once per machine: the image carries a label with a hash of this recipe; when an image with
# that tag and label exists, nothing happens. A compressed copy of the root filesystem is kept in
# $SC_BASE_CACHE (default /var/cache/serverless-containers) so a wiped Docker store re-imports it
# in seconds. Needs root (debootstrap), docker, debootstrap, and a reachable Debian mirror.
#
# Usage: docker/base/build.sh [TAG]      env: DEBIAN_MIRROR (a Debian mirror URL), SC_BASE_CACHE, SC_BASE_FORCE=1
set -euo pipefail

TAG="${1:-serverless-containers/base:local}"
MIRROR="${DEBIAN_MIRROR:-}"        # empty: debootstrap's default Debian mirror
SUITE=trixie          # Debian 13: Node.js 20, the major version the samples target (node:20-slim, engines >=20)
CACHE_DIR="${SC_BASE_CACHE:-/var/cache/serverless-containers}"
PACKAGES="nodejs,python3,ca-certificates"
NPM_VERSION="10"      # npm from the npm registry (self-contained); Debian's npm pulls ~350 packages
HERE="$(cd "$(dirname "$0")" && pwd)"

log() { echo "base-image: $*" >&2; }
die() { log "$*"; exit 1; }

# The recipe: this script, the package list and the local CAs baked in. Change any -> rebuild.
recipe_hash() {
  {
    cat "$HERE/build.sh"
    echo "$PACKAGES $SUITE $NPM_VERSION"
    cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true
  } | sha256sum | cut -c1-16
}

command -v docker >/dev/null 2>&1 || die "docker is not installed (run scripts/docker-engine.sh)."
docker info >/dev/null 2>&1 || die "no Docker engine answers (run scripts/docker-engine.sh)."

RECIPE="$(recipe_hash)"
LABEL=org.serverless-containers.base.recipe
if [ "${SC_BASE_FORCE:-0}" != 1 ] \
   && [ "$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$TAG" 2>/dev/null)" = "$RECIPE" ]; then
  log "$TAG is up to date (recipe $RECIPE)"
  exit 0
fi

import_tarball() {
  # The changes give the image what a Dockerfile's base expects: a PATH, a shell command, the
  # label that marks the recipe, and Node trusting the system CA bundle (local CAs included).
  docker import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
    --change "ENV LANG=C.UTF-8" \
    --change "LABEL $LABEL=$RECIPE" \
    --change 'CMD ["bash"]' \
    --message "serverless-containers local base: debootstrap $SUITE minbase + $PACKAGES + npm $NPM_VERSION" \
    "$1" "$TAG" >/dev/null
  log "imported $TAG (recipe $RECIPE)"
}

mkdir -p "$CACHE_DIR" 2>/dev/null || CACHE_DIR="${TMPDIR:-/tmp}/serverless-containers-cache"
mkdir -p "$CACHE_DIR"
TARBALL="$CACHE_DIR/base-$SUITE-$RECIPE.tar.gz"

# One build at a time per machine (parallel test workers all ask for the image); whoever waited
# finds the image built and returns at once.
if command -v flock >/dev/null 2>&1 && [ "${SC_BASE_LOCKED:-0}" != 1 ]; then
  exec env SC_BASE_LOCKED=1 flock "$CACHE_DIR/build.lock" bash "$0" "$@"
fi
if [ "${SC_BASE_FORCE:-0}" != 1 ] && [ -s "$TARBALL" ]; then
  log "re-importing the cached root filesystem $TARBALL"
  import_tarball "$TARBALL"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "debootstrap needs root; run as root or build on a machine where you are."
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)."

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sc-base.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"

log "debootstrap $SUITE (minbase) with $PACKAGES from ${MIRROR:-the default Debian mirror}"
# shellcheck disable=SC2086  # an empty MIRROR must vanish so debootstrap picks its default
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" $MIRROR >"$WORK/debootstrap.log" 2>&1; then
  tail -n 20 "$WORK/debootstrap.log" >&2
  die "debootstrap failed (is the Debian mirror reachable? set DEBIAN_MIRROR to use another)."
fi

# Trust the same local certificate authorities as this machine, so TLS (npm install) works behind
# a company proxy. Debian's own way: drop them in /usr/local/share/ca-certificates and refresh.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
  chroot "$ROOTFS" update-ca-certificates >/dev/null 2>&1 || log "note: update-ca-certificates failed in the root filesystem"
fi

# npm: the registry's npm package bundles all its dependencies, so one tarball is enough.
if command -v npm >/dev/null 2>&1; then
  if (cd "$WORK" && npm pack --silent "npm@$NPM_VERSION" >"$WORK/npm-pack.out" 2>"$WORK/npm-pack.err"); then
    mkdir -p "$ROOTFS/usr/local/lib/node_modules/npm"
    tar -xzf "$WORK/$(tail -n1 "$WORK/npm-pack.out")" -C "$ROOTFS/usr/local/lib/node_modules/npm" --strip-components=1
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
  else
    log "note: could not fetch npm $NPM_VERSION ($(tail -n1 "$WORK/npm-pack.err")); the image has no npm."
  fi
else
  log "note: no npm on this machine to fetch npm with; the image has no npm (samples that npm install won't build)."
fi

# Keep it small: no package caches, lists, docs or translations (apt-get update brings lists back).
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/lib/apt/lists/* \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
       "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/*.log "$ROOTFS"/var/cache/debconf/*-old
find "$ROOTFS/usr/lib/python3" "$ROOTFS"/usr/lib/python3.[0-9]* -name __pycache__ -prune -exec rm -rf {} + 2>/dev/null || true

tar -C "$ROOTFS" --numeric-owner -czf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
# Older recipes' tarballs are dead weight.
find "$CACHE_DIR" -maxdepth 1 -name "base-$SUITE-*.tar.gz" ! -name "$(basename "$TARBALL")" -delete 2>/dev/null || true
import_tarball "$TARBALL"
