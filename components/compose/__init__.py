"""The compose model and its loader: a source folder (a Dockerfile, or compose files) in, an ``App`` out.

Pure Python with no Pulumi import, so it can be used and tested on its own:

    from components.compose import load_app
    app = load_app("apps/multi")            # -> components.compose.model.App

Modules, in loading order: ``documents`` (YAML with !reset/!override), ``schema`` (the official
compose-spec schema in ``spec/``), ``interpolate`` (variables and .env files), ``merge`` (include,
extends, override files), ``loader`` (the entry point), ``services`` (one service into one container, with
``secrets``, ``volumes`` and ``runtime`` for their keys), ``values`` (durations, sizes, ports, commands),
``checks`` (the whole task), ``routing`` (the entrypoint and its port), ``fargate`` (what Fargate honours,
warns about or refuses), ``dockerfile`` (a lone Dockerfile), ``model`` (the result).
"""
from components.compose.fargate import describe_fargate_handling
from components.compose.loader import COMPOSE_FILE_NAMES, LoaderBugError, load_app

__all__ = ["load_app", "describe_fargate_handling", "COMPOSE_FILE_NAMES", "LoaderBugError"]
