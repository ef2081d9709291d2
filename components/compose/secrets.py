"""Compose secrets: the references a service or a build makes to top-level secrets, and each secret's value
(a `.secret-` file, or the stack's own routes: an encrypted stack config value or an existing ARN).
A mixin of the loader (``loader._Loader``), which supplies ``_warn``, ``_error`` and ``source_dir``."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from components.compose.documents import is_file, real_path
from components.compose.model import Secret
from components.errors import ConfigError

SECRET_PREFIX = ".secret-"
SECRETS_MANAGER_MAX_BYTES = 65536


class SecretReferences:
    """Needs ``self._warn``, ``self._error`` and ``self.source_dir`` from the loader."""

    def _secret_references(self, name: str, entries: list, defined: dict, file: str, key: str, user: str):
        """(index, entry, secret name) of a service's or build's secrets list; each must be defined at the top level."""
        for index, entry in enumerate(entries):
            source = entry.get("source") if isinstance(entry, dict) else entry
            source = str(source) if source is not None else ""
            if source not in defined:
                raise self._error(f"the {user} uses the secret {source!r}, which the top-level secrets: does not "
                                  "define.", file, name, f"{key}[{index}]",
                                  f"add it at the top level: secrets: {{{source or 'NAME'}: {{file: ../.secret-"
                                  f"{(source or 'name').lower()}}}}}.")
            yield index, entry, source

    def _build_secrets(self, name: str, entries: list, defined: dict, file: str) -> tuple[str, ...]:
        """compose build.secrets: top-level secrets BuildKit mounts for `RUN --mount=type=secret,id=NAME` (the way
        to give a build a credential; a build arg would be in the image history and the build log)."""
        names: list[str] = []
        for index, entry, source in self._secret_references(name, entries, defined, file, "build.secrets", "build"):
            if isinstance(entry, dict) and entry.get("target") not in (None, "", source):
                self._warn(f"build secret {source}: target is not applied; the build mounts it with id={source}.",
                           file=file, service=name, key=f"build.secrets[{index}]")
            if source not in names:
                names.append(source)
        return tuple(names)

    def _service_secrets(self, name: str, entries: list, defined: dict, file: str) -> list[str]:
        names: list[str] = []
        for index, entry, source in self._secret_references(name, entries, defined, file, "secrets", "service"):
            if isinstance(entry, dict) and any(entry.get(key) not in (None, "") for key in ("target", "uid", "gid", "mode")):
                self._warn(f"secret {source}: target/uid/gid/mode are not applied; on Fargate the secret is the "
                           f"environment variable {source}, not a file.", file=file, service=name, key=f"secrets[{index}]")
            if source not in names:
                names.append(source)
        if names:
            self._warn(f"the secrets {', '.join(names)} reach the container as environment variables of the same name, "
                       "not as files under /run/secrets/.", file=file, service=name, key="secrets")
        return names

    def _secret(self, name: str, spec: Any, file: str) -> Secret:
        key = f"secrets.{name}"
        provided = getattr(self, "stack_secrets", {}).get(name)
        if provided:
            # The stack config provides the value (secretValues) or an existing secret (secretArns): no file needed,
            # and `external: true` says just that.
            if spec is not None and not isinstance(spec, dict):
                raise ConfigError("the secret should be a map (file: or external:).", file=file, key=key)
            self._secret_name_warning(name, file, key)
            return Secret(name=name, file=None, stack_config=provided)
        hint = getattr(self, "secret_hint", None)
        routes = f"; {hint(name)}" if hint else "."
        if not isinstance(spec, dict):
            raise ConfigError("the secret needs file: ../.secret-<name>.", file=file, key=key,
                              fix=f"add file: ../.secret-{name.lower()}{routes}")
        external = spec.get("external")
        if external not in (None, False, "false", ""):
            raise ConfigError("an external secret needs its value from the stack: this project creates each Secrets "
                              "Manager secret from a file or the stack config, or uses one you name by ARN.",
                              file=file, key=f"{key}.external",
                              fix=f"replace external: with file: ../.secret-{name.lower()} holding the value (outside the "
                                  f"source folder); `pulumi up` stores it in Secrets Manager{routes}")
        if spec.get("environment") not in (None, ""):
            raise ConfigError("secrets from an environment variable are not supported: the value would have to be "
                              "in the shell of everyone who runs `pulumi up`.", file=file, key=f"{key}.environment",
                              fix=f"write the value to ../.secret-{name.lower()} (outside the source folder) and use "
                                  f"file: instead{routes}")
        if spec.get("driver") not in (None, ""):
            raise ConfigError("secret drivers are a Swarm feature and are not supported.", file=file,
                              key=f"{key}.driver", fix=f"use file: ../.secret-{name.lower()}.")
        if not spec.get("file"):
            raise ConfigError("the secret has no file:.", file=file, key=key,
                              fix=f"add file: ../.secret-{name.lower()} (outside the source folder){routes}")
        path = Path(os.path.abspath(str(spec["file"])))
        if not path.name.startswith(SECRET_PREFIX):
            raise ConfigError(f"the secret file {path.name!r} must be named {SECRET_PREFIX}<something>.", file=file,
                              key=f"{key}.file", fix=f"rename it, e.g. to {SECRET_PREFIX}{name.lower()}; the prefix "
                                                     "marks secret files so they stay out of Git and images.")
        real = real_path(path)
        if real == self.source_dir or self.source_dir in real.parents:
            raise ConfigError(f"the secret file {path} lies inside the source folder, so it would be copied into the "
                              "image's build context.", file=file, key=f"{key}.file",
                              fix=f"move it out of {self.source_dir}, e.g. to ../{SECRET_PREFIX}{name.lower()}.")
        if not is_file(path):
            raise ConfigError(f"the secret file {path} does not exist.", file=file, key=f"{key}.file",
                              fix=f"create it with the secret's value (and keep it out of Git){routes}")
        try:
            data = path.read_bytes()
        except (OSError, ValueError) as error:
            raise ConfigError(f"the secret file {path} cannot be read: {getattr(error, 'strerror', None) or error}.", file=file,
                              key=f"{key}.file") from None
        if len(data) > SECRETS_MANAGER_MAX_BYTES:
            raise ConfigError(f"the secret file {path} is larger than Secrets Manager's {SECRETS_MANAGER_MAX_BYTES} "
                              "bytes.", file=file, key=f"{key}.file")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"the secret file {path} is not UTF-8 text; the value becomes an environment variable.",
                              file=file, key=f"{key}.file", fix="store text, e.g. base64-encode binary data.") from None
        value = value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value
        if not value:
            raise ConfigError(f"the secret file {path} is empty.", file=file, key=f"{key}.file",
                              fix="write the secret's value into it.")
        self._secret_name_warning(name, file, key)
        return Secret(name=name, file=path, value=value)

    def _secret_name_warning(self, name: str, file: str, key: str) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            self._warn(f"the secret {name!r} becomes an environment variable of that name, which shells cannot "
                       "read directly ($NAME); letters, digits and '_' work everywhere.", file=file, key=key)
