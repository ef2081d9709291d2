#!/usr/bin/env python3
"""Deploy dev, smoke-call its APIs, then promote to prod: this project driven from a script (Automation API).

    .venv/bin/python scripts/deploy_and_promote.py                    # dev, smoke check, then prod
    .venv/bin/python scripts/deploy_and_promote.py --api posts --path /posts --to staging

"Promote" deploys the next stack from the same checkout, so it builds the very source that passed in dev
(`build: managed` tags images with the source's content hash, so the same source gives the same tag). Prod is
deployed only when every API of dev answered the smoke call with a status below 500; an API with sign-in answers
401 without a token, which still proves the whole path (API Gateway, VPC link, Cloud Map, the task) is up. An API
that sleeps may be asleep again right after its deploy and answers 503 while it wakes, so the smoke call keeps
trying for at least the wake time the stack states (its `scaling.wakeSeconds` output, the plan's figure).

Needs what `pulumi up` needs: the Pulumi CLI, `pulumi login`, AWS credentials. Exits 0 on success, 1 when a
deploy or the smoke check fails, 2 on a configuration error; each with one message.
"""
from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from components.errors import ConfigError  # noqa: E402
from ops.automation import deploy  # noqa: E402
from ops.errors import OpsError  # noqa: E402


class SmokeCheckFailed(Exception):
    pass


# How long the smoke check keeps calling an API that does not sleep: a new service may need a minute.
DEFAULT_PATIENCE_SECONDS = 60.0
RETRY_SECONDS = 10.0


def stated_wake_seconds(api: dict) -> float:
    """The wake time the stack states for an API that sleeps (its output ``scaling.wakeSeconds``, the figure the plan
    prints; components/scaling.py computes it), 0 for one that never sleeps. The longest figure counts."""
    figure = (api.get("scaling") or {}).get("wakeSeconds")
    figures = figure if isinstance(figure, (list, tuple)) else [figure]
    return float(max((f for f in figures if isinstance(f, (int, float))), default=0))


def smoke_patience(api: dict) -> float:
    """A sleeping API answers 503 until it is awake: call it for at least its wake time, then once more."""
    return max(DEFAULT_PATIENCE_SECONDS, stated_wake_seconds(api) + RETRY_SECONDS)


def smoke_call(url: str, *, patience_seconds: float = DEFAULT_PATIENCE_SECONDS, wait_seconds: float = RETRY_SECONDS,
               opener: Callable = urllib.request.urlopen, sleep: Callable[[float], None] = time.sleep) -> int:
    """GET ``url`` until it answers with a status below 500; that status. Gives up once it has waited
    ``patience_seconds`` between calls."""
    last, waited, tries = "no answer", 0.0, 0
    while True:
        tries += 1
        try:
            with opener(url, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError) as error:
            status, last = None, str(getattr(error, "reason", error))
        if status is not None and status < 500:
            return status
        if status is not None:
            last = f"HTTP {status}"
        if waited + wait_seconds > patience_seconds:
            break
        sleep(wait_seconds)
        waited += wait_seconds
    raise SmokeCheckFailed(f"{url} did not answer below 500 within {patience_seconds:g} s ({tries} tries; last: "
                           f"{last})")


def main(argv: list[str] | None = None, *, smoke: Callable[..., int] = smoke_call) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", default="dev", help="the stack to deploy and check first (dev)")
    parser.add_argument("--to", dest="target", default="prod", help="the stack to promote to when the check passes "
                                                                     "(prod)")
    parser.add_argument("--api", action="append", help="smoke-call only this API (repeatable; default: every API)")
    parser.add_argument("--path", default="/", help="the path to call on each API's URL (default: /)")
    args = parser.parse_args(argv)
    try:
        outputs = deploy(args.source, project_dir=PROJECT_DIR)
        apis = outputs.get("apis") or {}
        chosen = args.api or sorted(apis)
        missing = [name for name in chosen if name not in apis]
        if missing:
            raise OpsError(f"stack {args.source} has no API {', '.join(missing)}; it has {', '.join(apis) or 'none'}.")
        for name in chosen:
            url = str(apis[name]["url"]).rstrip("/") + "/" + args.path.lstrip("/")
            patience, wake = smoke_patience(apis[name]), stated_wake_seconds(apis[name])
            if wake:
                print(f"smoke check {args.source}/{name}: the API may be asleep (it wakes in about {wake:g} s): "
                      f"calling it for up to {patience:g} s")
            print(f"smoke check {args.source}/{name}: GET {url} -> {smoke(url, patience_seconds=patience)}")
        promoted = deploy(args.target, project_dir=PROJECT_DIR)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (OpsError, SmokeCheckFailed) as error:
        print(f"error: {error}" + (f" Not promoted to {args.target}." if isinstance(error, SmokeCheckFailed) else ""),
              file=sys.stderr)
        return 1
    for name, api in sorted((promoted.get("apis") or {}).items()):
        print(f"promoted to {args.target}: {name} {api.get('url')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
