"""components/prepare.py: every check a deploy makes before its first resource, without Pulumi's runtime.

The program, `ops up`, `ops local` and the offline plan call the same preparation, so a folder one of them
refuses, all of them refuse (issue 20).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from components.errors import ConfigError
from components.prepare import prepare, prepare_api
from components.settings import load_settings
from ops.local.runner import load_api

DATABASE_APP = """\
services:
  web:
    image: nginx:1.27
    ports: ["8080:80"]
  db:
    image: postgres:16-alpine
    volumes:
      - pgdata:/var/lib/postgresql/data
volumes:
  pgdata: {}
"""


def _project(root: Path, compose: str, api: dict | None = None) -> Path:
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    (root / "app").mkdir(exist_ok=True)
    (root / "app" / "compose.yaml").write_text(compose)
    spec = {"source": "app", "auth": False, **(api or {})}
    import yaml

    (root / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(
        {"config": {"aws:region": "eu-west-1", "serverless-containers:apis": {"app": spec}}}))
    return root


def test_prepare_plans_count_and_task_for_every_api(tmp_path):
    project = _project(tmp_path, DATABASE_APP)
    settings = load_settings({"apis": {"app": {"source": "app", "auth": False}}}, project, "dev")
    [prepared] = prepare(settings, "eu-west-1")
    assert prepared.settings.name == "app" and prepared.app.entrypoint == "web"
    assert (prepared.count.replicas, prepared.count.min, prepared.count.max) == (1, 1, 1)
    assert [c.name for c in prepared.task.app.containers] == ["web", "db"]
    assert prepared.task.one_shot == frozenset() and prepared.task.cpu >= 256


def test_a_database_on_two_tasks_is_refused_without_pulumi(tmp_path):
    project = _project(tmp_path, DATABASE_APP)
    settings = load_settings({"apis": {"app": {"source": "app", "auth": False, "replicas": 2}}}, project, "dev")
    with pytest.raises(ConfigError) as raised:
        prepare(settings)
    assert raised.value.key == "serverless-containers:apis.app.replicas" and "corrupt" in raised.value.problem


def test_ops_local_refuses_what_a_deploy_refuses(tmp_path):
    """Before issue 20, `ops local` loaded the compose file alone and ran a database on two tasks' worth of
    config without a word; now it goes through the deploy's preparation."""
    project = _project(tmp_path, DATABASE_APP, {"replicas": 2})
    with pytest.raises(ConfigError) as local:
        load_api("dev", "app", project)
    settings = load_settings({"apis": {"app": {"source": "app", "auth": False, "replicas": 2}}}, project, "dev")
    with pytest.raises(ConfigError) as deploy:
        prepare(settings)
    assert (local.value.problem, local.value.key) == (deploy.value.problem, deploy.value.key)


def test_ops_local_reads_secret_files_the_stack_provides_for_the_cloud(tmp_path):
    compose = ('services:\n  web:\n    image: nginx:1.27\n    ports: ["8080:80"]\n    secrets: [TOKEN]\n'
               'secrets:\n  TOKEN:\n    file: ../.secret-token\n')
    project = _project(tmp_path, compose)
    (tmp_path / ".secret-token").write_text("from-the-file\n")
    raw = {"apis": {"app": {"source": "app", "auth": False}}, "secretValues": {"app": {"TOKEN": "from-the-stack"}}}
    settings = load_settings(raw, project, "dev")
    cloud = prepare_api(settings, settings.apis["app"])
    local = prepare_api(settings, settings.apis["app"], secrets_from_files=True)
    assert not cloud.app.secrets["TOKEN"].value and cloud.app.secrets["TOKEN"].file is None   # the file is not read
    assert local.app.secrets["TOKEN"].value.strip() == "from-the-file"
