"""Issue 22 against moto: the waker's handler (components/functions/waker.py) wakes a sleeping service and leaves an
awake or paused one alone; the stack takes the count back when `sleep` is removed (providers/stack_count.py); `ops
status` says asleep, waking, awake or paused and when the API last woke (ops/cloud/wake_state.py)."""
from __future__ import annotations

import base64
import gzip
import json
import time

import boto3
import pytest

from components.functions import waker
from components.providers.stack_count import StackCountProvider, apply_count
from ops.__main__ import main
from ops.cloud import scaling as ops_scaling
from tests.ops_fixtures import REGION, fake_credentials, project, write_outputs_json  # noqa: F401
from tests.ops_moto import API, CLUSTER, world  # noqa: F401 - world: a fixture

RESOURCE = f"service/{CLUSTER}/{API}"
WAKER_LOG = f"/aws/lambda/serverless-containers-dev-{API}-waker"
SLEEPS = {"managedBy": "sleep", "min": 0, "max": 2, "awakeCount": 2, "sleepAfterIdleMinutes": 30,
          "wakeSeconds": [23, 63], "waker": {"functionName": "posts-waker-function-abc1234", "logGroup": WAKER_LOG}}


@pytest.fixture
def autoscaling(world):
    return boto3.client("application-autoscaling", region_name=REGION)


def _register(client, minimum=0, maximum=2, suspended=False):
    client.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=RESOURCE, ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=minimum, MaxCapacity=maximum,
        SuspendedState=ops_scaling.SUSPENDED if suspended else ops_scaling.RUNNING)


def _desired(world) -> int:
    return world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]["desiredCount"]


def _sleep(world):
    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=0)      # what the idle alarm does


# --- the handler ------------------------------------------------------------------------------------------

def test_the_waker_raises_a_sleeping_service_to_its_awake_count(world, autoscaling):
    _register(autoscaling)
    _sleep(world)
    assert waker.wake(world.ecs, autoscaling, CLUSTER, API, 2) == {"outcome": "woke", "from": 0, "to": 2}
    assert _desired(world) == 2


def test_the_waker_leaves_an_awake_service_alone_and_never_lowers_it(world, autoscaling):
    _register(autoscaling, 0, 6)
    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=5)        # autoscaled out
    assert waker.wake(world.ecs, autoscaling, CLUSTER, API, 2)["outcome"] == "already-awake"
    assert _desired(world) == 5


def test_the_waker_leaves_a_paused_api_paused(world, autoscaling):
    _register(autoscaling, suspended=True)                    # what `ops pause` does before setting 0
    _sleep(world)
    assert waker.wake(world.ecs, autoscaling, CLUSTER, API, 2)["outcome"] == "paused"
    assert _desired(world) == 0


def test_the_waker_does_nothing_when_the_stack_owns_the_count(world, autoscaling):
    _sleep(world)                                             # stack-owned and at 0: `ops pause`
    assert waker.wake(world.ecs, autoscaling, CLUSTER, API, 2)["outcome"] == "not-sleeping"
    assert _desired(world) == 0


def test_the_waker_keeps_the_count_within_the_targets_range(world, autoscaling):
    _register(autoscaling, 0, 1)
    _sleep(world)
    assert waker.wake(world.ecs, autoscaling, CLUSTER, API, 3)["to"] == 1


def test_the_handler_reads_its_settings_and_the_subscriptions_batch(world, autoscaling, monkeypatch, capsys):
    _register(autoscaling)
    _sleep(world)
    monkeypatch.setenv("CLUSTER", CLUSTER)
    monkeypatch.setenv("SERVICE", API)
    monkeypatch.setenv("AWAKE_COUNT", "2")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    lines = [{"id": str(i), "timestamp": 0, "message": json.dumps({"status": "503"})} for i in range(3)]
    data = base64.b64encode(gzip.compress(json.dumps({"logEvents": lines}).encode())).decode()
    result = waker.handler({"awslogs": {"data": data}}, None)
    assert result == {"outcome": "woke", "from": 0, "to": 2, "requests": 3}
    assert json.loads(capsys.readouterr().out) == result            # one JSON line: `ops status` reads it
    assert _desired(world) == 2


# --- the stack takes the count back ---------------------------------------------------------------------

def test_removing_sleep_while_asleep_sets_the_count_back(world, autoscaling):
    _register(autoscaling)                   # still registered: Pulumi deletes it after creating StackCount
    _sleep(world)
    provider = StackCountProvider(client_factory=lambda props: (world.ecs, autoscaling))
    created = provider.create({"cluster": CLUSTER, "service": API, "count": 2, "region": REGION})
    assert created.outs["outcome"] == "set" and _desired(world) == 2


def test_the_stack_count_leaves_paused_and_stack_owned_services_and_first_deploys_alone(world, autoscaling):
    _sleep(world)
    assert apply_count(world.ecs, autoscaling, CLUSTER, API, 2)["outcome"] == "stack-owned"   # `ops pause`d
    _register(autoscaling, suspended=True)
    assert apply_count(world.ecs, autoscaling, CLUSTER, API, 2)["outcome"] == "paused"
    assert apply_count(world.ecs, autoscaling, CLUSTER, API, 0)["outcome"] == "no-image-yet"
    assert _desired(world) == 0


# --- ops status --------------------------------------------------------------------------------------------

def _status(project, tmp_path, capsys, world, scaling) -> str:
    outputs = world.outputs()
    outputs["apis"][API]["scaling"] = scaling
    source = write_outputs_json(tmp_path / "outputs.json", outputs)
    code = main(["status", "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(source),
                 "--api", API])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _woke_line(world, when_ms: int) -> None:
    world.logs.create_log_group(logGroupName=WAKER_LOG)
    world.logs.create_log_stream(logGroupName=WAKER_LOG, logStreamName="s")
    world.logs.put_log_events(logGroupName=WAKER_LOG, logStreamName="s", logEvents=[
        {"timestamp": when_ms - 60_000, "message": json.dumps({"outcome": "already-awake", "desiredCount": 2})},
        {"timestamp": when_ms, "message": json.dumps({"outcome": "woke", "from": 0, "to": 2, "requests": 1})}])


def test_status_says_asleep_then_waking_then_awake_and_when_it_last_woke(world, autoscaling, project, tmp_path,
                                                                          capsys):
    _register(autoscaling)
    _sleep(world)
    assert "state: asleep; no wake on record" in _status(project, tmp_path, capsys, world, SLEEPS)
    woke_at = (int(time.time()) - 600) * 1000
    _woke_line(world, woke_at)
    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=2)
    world.service_record.running_count = 0          # moto keeps records: no task has started yet
    out = _status(project, tmp_path, capsys, world, SLEEPS)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(woke_at / 1000))
    assert f"state: waking; last woke {stamp} by the waker, on a request (a task starts in about 63 s" in out
    world.service_record.running_count = 2
    assert f"state: awake; last woke {stamp}" in _status(project, tmp_path, capsys, world, SLEEPS)


def test_status_says_paused_for_a_suspended_target_and_a_stack_owned_zero(world, autoscaling, project, tmp_path,
                                                                         capsys):
    _register(autoscaling, suspended=True)
    _sleep(world)
    assert "state: paused" in _status(project, tmp_path, capsys, world, SLEEPS)
    stack_owned = {"managedBy": "stack", "min": 2, "max": 2, "awakeCount": 2}
    assert "state: paused\n" in _status(project, tmp_path, capsys, world, stack_owned)
