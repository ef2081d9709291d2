"""How long a sleeping API takes from its first request to its first 200, added up from its parts. Pure Python.

Each part has a fastest and a typical figure in seconds and the source they rest on; docs/design.md ("Wake time")
prints the same table. The image pull depends on the image's compressed size, so ``wake_seconds`` takes it (the
default is the posts sample's, measured with scripts/measure_container_start.py). The plan, the stack outputs
(``apis.NAME.scaling.wakeSeconds``) and the README show the typical sum; clients should retry 503s for that long.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# The posts sample (apps/posts) measured on this repository's Docker runner (2026-12-07, 2 cores shared with other
# work): its image 228 MB, 78 MB gzip-compressed; `docker run` to the first 200 in 1.70-2.78 s over 5 runs, median
# 2.17 s. scripts/measure_container_start.py prints all of it.
SAMPLE_IMAGE_MB = 78
SAMPLE_CONTAINER_START_S = (1.7, 2.17)     # (fastest, median)
# Fargate gives a small task a fraction of a CPU (the sample: 0.25 vCPU), the runner a whole machine: the app's start
# is counted this many times slower (an estimate; Node.js start-up is CPU-bound).
SMALL_TASK_SLOWDOWN = 4
# Image pull throughput into a Fargate task: 413 MB pulled and started in 53-62 s, of which about 20 s are
# scheduling and the network interface (elasticscale's measurement, through a NAT instance: a slow path).
PULL_MB_PER_S = (25.0, 11.0)     # (fastest, typical)


@dataclass(frozen=True)
class WakePart:
    name: str
    fastest: float
    typical: float
    source: str


def parts(image_mb: float = SAMPLE_IMAGE_MB) -> list[WakePart]:
    """The wake path of the waker (components/waker.py), in order."""
    start = SAMPLE_CONTAINER_START_S[1] * SMALL_TASK_SLOWDOWN
    return [
        WakePart("access log into CloudWatch Logs and the subscription to the function", 2, 10,
                 "CloudWatch Logs, 'Real-time processing of log data with subscriptions': events are sent soon after "
                 "ingestion, usually in less than three minutes (a bound, not a typical figure); API Gateway documents "
                 "no access-log delay. 2-10 s is an estimate of the usual case"),
        WakePart("the waker function (cold start, DescribeServices, DescribeScalableTargets, UpdateService)", 1, 2,
                 "AWS Lambda, 'Understanding the Lambda execution environment lifecycle' (init of a small Python "
                 "function well under a second) plus three API calls"),
        WakePart("ECS places the task on Fargate and attaches its network interface", 10, 20,
                 "Amazon ECS Developer Guide, 'Optimize Amazon ECS task launch time' (awsvpc: provisioning and "
                 "attaching the ENI adds several seconds) and the pull measurement below"),
        WakePart(f"image pull and unpack ({image_mb:g} MB compressed; Fargate caches nothing)",
                 round(image_mb / PULL_MB_PER_S[0], 1), round(image_mb / PULL_MB_PER_S[1], 1),
                 "AWS Containers blog, 'Reducing AWS Fargate Startup Times with zstd Compressed Container Images' (an "
                 "image is downloaded for every task); throughput from elasticscale.com, 'Reduce AWS Fargate pull "
                 "times with SOCI' (413 MB in 53-62 s including scheduling)"),
        WakePart("container start to its first 200", SAMPLE_CONTAINER_START_S[0], round(start, 1),
                 f"measured locally (scripts/measure_container_start.py), x{SMALL_TASK_SLOWDOWN} for 0.25 vCPU"),
        WakePart("Cloud Map registers the task and API Gateway discovers it", 5, 15,
                 "Amazon ECS service discovery registers a task once it runs (and is healthy when it has a health "
                 "check); API Gateway finds instances with DiscoverInstances (HTTP API private integrations). "
                 "No figure is published: an estimate"),
    ]


def wake_seconds(image_mb: float = SAMPLE_IMAGE_MB) -> tuple[int, int]:
    """(fastest, typical) seconds from the first request to the first 200, rounded up to whole seconds."""
    found = parts(image_mb)
    return math.ceil(sum(p.fastest for p in found)), math.ceil(sum(p.typical for p in found))

