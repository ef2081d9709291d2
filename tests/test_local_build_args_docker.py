"""`ops local build` on a real engine: build args filled from compose's `.env` reach the Dockerfile although only
their names are on the `docker build` command line (issue 23 item 14). Skips without an engine (SC_NO_DOCKER)."""
from __future__ import annotations

from ops import __main__ as cli
from ops.local.runner import local_image
from tests.docker_support import base_image, docker, docker_engine, run_id  # noqa: F401

STACK = "buildargs-" + run_id()


def test_env_file_build_args_reach_the_build_without_the_command_line(tmp_path, base_image):  # noqa: F811
    app = tmp_path / "app"
    app.mkdir()
    (app / ".env").write_text("NPM_TOKEN=npm_s3cr3tFromDotEnv\n")
    # the RUN fails the build unless both values arrived
    (app / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG NPM_TOKEN\nARG MODE\n"
                                    "RUN test \"$NPM_TOKEN\" = npm_s3cr3tFromDotEnv && test \"$MODE\" = 'two words'\n"
                                    "EXPOSE 8080\n")
    (app / "compose.yaml").write_text("services:\n  web:\n    build:\n      context: .\n"
                                      "      args: {NPM_TOKEN: \"${NPM_TOKEN}\", MODE: two words}\n"
                                      "    ports: [\"8080:8080\"]\n")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / f"Pulumi.{STACK}.yaml").write_text(
        f"config:\n  aws:region: eu-west-1\n  serverless-containers:apis:\n    web:\n      source: {app}\n")
    image = local_image(STACK, "web", "web")
    try:
        code = cli.main(["local", "build", "--stack", STACK, "--api", "web", "--project-dir", str(tmp_path),
                         "--base-image", base_image, "--quiet"])
        assert code == 0, "the build did not get its args from the environment (see the captured stderr)"
    finally:
        docker("rmi", "-f", image, check=False)
