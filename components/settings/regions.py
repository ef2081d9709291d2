"""AWS regions the stack may name in ``aws:region``: the ones botocore (the AWS SDK's models) knows.

Pure Python (no Pulumi). A region AWS does not have (``mars-east-1``) would only fail at the first
API call of ``pulumi up``; here it is a ``ConfigError`` before anything runs, with the nearest real
names, or, for a name shaped like a real region, the hint that botocore may be older than the region.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

from components.errors import ConfigError

REGION_KEY = "aws:region"


@lru_cache(maxsize=1)
def _partitions() -> tuple[tuple[str, re.Pattern, frozenset[str]], ...]:
    from botocore.loaders import create_loader

    data = create_loader().load_data("endpoints")
    return tuple((p["partition"], re.compile(p["regionRegex"]), frozenset(p.get("regions", {})))
                 for p in data["partitions"])


def known_regions() -> frozenset[str]:
    return frozenset().union(*(regions for _name, _pattern, regions in _partitions()))


def partition_of(region: str) -> str:
    """The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`...), from botocore's endpoints data."""
    for name, pattern, regions in _partitions():
        if region in regions or pattern.match(region):
            return name
    return "aws"


def botocore_version() -> str:
    import botocore

    return botocore.__version__


def check_region(region: object, file: str) -> str:
    """``region`` when botocore knows it; otherwise a ``ConfigError`` naming ``file`` and ``aws:region``."""
    if not isinstance(region, str) or not region.strip():
        raise ConfigError(f"expected a region name like us-east-1, got {region!r}.", file=file, key=REGION_KEY,
                          fix="set aws:region to an AWS region, e.g. `aws:region: us-east-1`.")
    if region in known_regions():
        return region
    shaped = [name for name, pattern, _regions in _partitions() if pattern.match(region)]
    if shaped:
        raise ConfigError(f"{region!r} looks like a region of the {shaped[0]} partition, but botocore "
                          f"{botocore_version()} does not know it.", file=file, key=REGION_KEY,
                          fix="check the spelling; if AWS opened this region recently, upgrade botocore "
                              "(.venv/bin/pip install -U boto3 botocore) and run the command again.")
    close = difflib.get_close_matches(region, sorted(known_regions()), n=3, cutoff=0.6)
    raise ConfigError(f"{region!r} is not an AWS region.", file=file, key=REGION_KEY,
                      fix=("use " + (f"one of: {', '.join(close)}" if close else "a region such as us-east-1 or "
                           "eu-west-1") + " (`aws account list-regions` lists yours)."))
