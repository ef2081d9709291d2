"""Issue 15: `pause`, `resume` and `status` when Application Auto Scaling sets the count (moto)."""
from __future__ import annotations

import boto3

from ops.__main__ import main
from ops.cli_args import runnable
from tests.ops_fixtures import REGION, fake_credentials, project, write_outputs_json  # noqa: F401
from tests.ops_moto import API, CLUSTER, FakeScheduler, world  # noqa: F401 - world: a fixture

RESOURCE = f"service/{CLUSTER}/{API}"
SLEEPS = {"managedBy": "sleep", "min": 0, "max": 2, "awakeCount": 2, "sleepAfterIdleMinutes": 30,
          "wakeSeconds": [105, 240]}
AUTOSCALED = {"managedBy": "autoscaling", "min": 2, "max": 4, "awakeCount": 2, "cpuPercent": 60}


def _register(minimum: int, maximum: int):
    client = boto3.client("application-autoscaling", region_name=REGION)
    client.register_scalable_target(ServiceNamespace="ecs", ResourceId=RESOURCE,
                                    ScalableDimension="ecs:service:DesiredCount", MinCapacity=minimum,
                                    MaxCapacity=maximum)
    return client


def _target(client):
    return client.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[RESOURCE])["ScalableTargets"][0]


def _cli(project, tmp_path, capsys, world, scaling, *argv):
    outputs = world.outputs()
    outputs["apis"][API]["scaling"] = scaling
    source = write_outputs_json(tmp_path / "outputs.json", outputs)
    code = main([argv[0], "--stack", "dev", "--project-dir", str(project), "--outputs-json", str(source), *argv[1:]])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _desired(world):
    return world.ecs.describe_services(cluster=CLUSTER, services=[API])["services"][0]["desiredCount"]


def test_pause_suspends_scaling_and_resume_lifts_it(world, project, tmp_path, capsys, monkeypatch):
    FakeScheduler(world, monkeypatch)
    client = _register(0, 2)
    code, out, err = _cli(project, tmp_path, capsys, world, SLEEPS, "pause", "--api", API)
    assert code == 0, err
    assert _desired(world) == 0
    state = _target(client)["SuspendedState"]
    assert state == {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True,
                     "ScheduledScalingSuspended": True}
    assert "Application Auto Scaling suspended (the sleep and wake alarms will not start tasks" in out
    assert runnable("stay paused through `python -m ops up`") in out

    code, out, err = _cli(project, tmp_path, capsys, world, SLEEPS, "status", "--api", API)
    assert code == 0, err
    assert "count: set by Application Auto Scaling (the sleep and wake alarms), 0..2 tasks" in out
    assert runnable("paused: scaling is suspended and no task runs until `python -m ops resume`.") in out

    code, out, err = _cli(project, tmp_path, capsys, world, SLEEPS, "resume")
    assert code == 0, err
    assert _desired(world) == 2 and not any(_target(client)["SuspendedState"].values())
    assert "Application Auto Scaling resumed" in out


def test_status_says_asleep_not_paused_when_the_sleep_alarm_scaled_to_zero(world, project, tmp_path, capsys):
    _register(0, 2)
    world.ecs.update_service(cluster=CLUSTER, service=API, desiredCount=0)      # what the idle alarm does
    code, out, err = _cli(project, tmp_path, capsys, world, SLEEPS, "status", "--api", API)
    assert code == 0, err
    assert "asleep (no request for 30 min): the first request wakes it; API Gateway answers 503" in out
    assert "paused (desired count 0)" not in out


def test_status_and_resume_with_autoscaling(world, project, tmp_path, capsys, monkeypatch):
    FakeScheduler(world, monkeypatch)
    _register(2, 4)
    code, out, err = _cli(project, tmp_path, capsys, world, AUTOSCALED, "status", "--api", API)
    assert code == 0, err
    assert "count: set by Application Auto Scaling (CPU/memory target tracking), 2..4 tasks" in out
    code, out, err = _cli(project, tmp_path, capsys, world, AUTOSCALED, "resume", "--replicas", "9")
    assert code == 1 and "autoscaling keeps 2..4 tasks; --replicas 9 is outside that range" in err


def test_status_names_a_missing_scalable_target(world, project, tmp_path, capsys):
    code, out, err = _cli(project, tmp_path, capsys, world, AUTOSCALED, "status", "--api", API)
    assert code == 0, err
    assert runnable(f"no scalable target is registered for {RESOURCE}: run `python -m ops up`") in out


def test_status_of_a_stack_managed_count(world, project, tmp_path, capsys):
    code, out, err = _cli(project, tmp_path, capsys, world, {"managedBy": "stack"}, "status", "--api", API)
    assert code == 0, err
    assert "count: set by the stack (replicas 2); `pulumi up` restores it" in out
