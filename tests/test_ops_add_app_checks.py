"""`add api` refuses a folder that the program would refuse (issue 24, item 3).

The app is loaded with the program's own loader and checks (components/prepare.py, what `ops plan` and `pulumi up`
run first), so an app the deploy refuses is refused here: exit code 2, the deploy's message, and the stack file
left exactly as it was. Before, `add` wrote such an API and every plan of the stack failed from then on.
"""
from __future__ import annotations

import pytest

from tests.test_ops_add import _add, _config, _offline_plan, _outputs, project  # noqa: F401 - the fixture

HOST_NETWORK = """\
services:
  web:
    image: nginx:1.27
    network_mode: host
"""
PRIVILEGED = """\
services:
  web:
    build: .
    ports: ["8080:8080"]
    privileged: true
"""
CONTEXT_OUTSIDE = """\
services:
  web:
    build: ../elsewhere
    ports: ["8080:8080"]
"""


@pytest.mark.parametrize("files, named", [
    ({"compose.yaml": HOST_NETWORK}, "network_mode"),
    ({"compose.yaml": PRIVILEGED, "Dockerfile": "FROM scratch\n"}, "privileged"),
    ({"Dockerfile": "FROM scratch\nEXPOSE 5353/udp\n"}, "UDP"),
    ({"compose.yaml": CONTEXT_OUTSIDE}, "outside the API's source folder"),
], ids=["network_mode host", "privileged", "udp only", "build context outside the source"])
def test_add_api_refuses_an_app_the_deploy_refuses_and_leaves_the_stack_file_alone(project, monkeypatch, capsys,
                                                                                  files, named):
    folder = project / "apps" / "mine"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    stack_file = project / "stacks" / "Pulumi.dev.yaml"
    before = stack_file.read_bytes()
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "mine", "--template",
                          "existing", "--source", "apps/mine", "--no-auth", "--yes")
    assert code == 2, out + err
    assert named in err and str(folder) in err and "Traceback" not in err
    assert "added API" not in out
    assert stack_file.read_bytes() == before
    assert sorted(path.name for path in folder.iterdir()) == sorted(files)     # the user's folder is untouched


def test_add_api_accepts_the_same_app_once_it_is_fixed(project, monkeypatch, capsys):
    folder = project / "apps" / "mine"
    folder.mkdir()
    (folder / "compose.yaml").write_text(HOST_NETWORK.replace("    network_mode: host\n", '    ports: ["80:80"]\n'))
    code, out, err = _add(monkeypatch, capsys, project, "api", "--stack", "dev", "--name", "mine", "--template",
                          "existing", "--source", "apps/mine", "--no-auth", "--yes")
    assert code == 0, err
    assert _config(project)["serverless-containers:apis"]["mine"]["source"] == "apps/mine"
    assert _outputs(_offline_plan(project, monkeypatch)) == ["mine", "posts"]
