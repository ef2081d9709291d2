"""The checkout is installable, and a script kept outside it can drive a deploy as the README shows.

The README's recipe is run as a new user would: a fresh virtualenv (a throwaway one here, never the project's shared
.venv), `python -m pip install -e <checkout>`, then the README's own script from a folder outside the repository,
on a machine without the Pulumi CLI. The throwaway venv borrows the installed dependencies of the Python running the
tests through a .pth line (so the test needs no network for them), and installs the checkout with --no-deps.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _readme_section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def _requirement_names(lines) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def test_the_installed_dependencies_are_the_runtime_section_of_requirements_txt():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = (ROOT / "requirements.txt").read_text().split("# Tests only", 1)[0].splitlines()
    assert project["dependencies"] == _requirement_names(runtime)
    assert project["requires-python"] == ">=3.11"


def test_a_script_outside_the_repository_imports_deploy_as_the_readme_shows(tmp_path):
    section = _readme_section("From your own script")
    install = next(line for block in _code_blocks(section, "bash") for line in block.splitlines()
                   if "pip install" in line)
    assert install.split("#")[0].split() == [".venv/bin/python", "-m", "pip", "install", "-e", "."]
    script = _code_blocks(section, "python")[0]
    assert "from ops.automation import" in script and "deploy" in script

    venv = tmp_path / "venv"
    # --without-pip and `pip --python`: the same install, without 20 s of ensurepip on a busy machine.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, capture_output=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                                "--disable-pip-version-check", "--no-deps", "-e", str(ROOT)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    outside = tmp_path / "my-scripts"          # not the checkout, not below it: only the install can find `ops`
    outside.mkdir()
    (outside / "deploy_dev.py").write_text(script)
    bare_path = os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"])
    assert shutil.which("pulumi", path=bare_path) is None, "this test needs a PATH without the Pulumi CLI"
    stack_file = ROOT / "stacks" / "Pulumi.dev.yaml"
    before = stack_file.read_bytes()
    env = {"PATH": bare_path, "HOME": str(tmp_path), "API_TOKEN": "t0ken-for-the-test", "LANG": "C.UTF-8"}
    ran = subprocess.run([str(python), "deploy_dev.py"], cwd=outside, env=env, capture_output=True, text=True,
                         timeout=300)
    assert "ModuleNotFoundError" not in ran.stderr and "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stderr.startswith("deploy failed: the Pulumi CLI is not installed"), ran.stderr
    assert "https://www.pulumi.com/docs/install/" in ran.stderr
    assert stack_file.read_bytes() == before

    # The config check comes first: a bad value stops the script before the CLI is missed.
    (outside / "bad_config.py").write_text(script.replace('{"fargateSpot": True}', '{"fargateSpot": "maybe"}'))
    ran = subprocess.run([str(python), "bad_config.py"], cwd=outside, env=env, capture_output=True, text=True,
                         timeout=300)
    assert ran.returncode == 1 and ran.stderr.startswith("config error: "), ran.stderr
    assert "fargateSpot" in ran.stderr and "Pulumi CLI" not in ran.stderr
    assert stack_file.read_bytes() == before
