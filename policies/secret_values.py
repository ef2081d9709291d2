"""Does a value look like a live credential? The one detection rule shared by the policy pack
(policies/rules.py ``no-secrets-in-environment``, policies/security_rules.py ``no-secrets-in-build-args``) and
the offline plan, which runs those rules.

Pure Python, no Pulumi. Names alone miss ``DATABASE_URL=postgres://app:hunter2@db/app`` and flag
``TOKEN_TTL=3600``; so values are judged too, with Yelp's detect-secrets (requirements.txt): its
pattern plugins recognise the formats of live tokens (AWS access keys, GitHub, GitLab, Slack, Stripe,
npm, PyPI, OpenAI, SendGrid, Twilio, JWTs, private keys, ...) and URLs with a password. Its entropy
and keyword plugins are left out on purpose: they flag ordinary values (``production``, git hashes,
URLs) and would make the rule noise.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable
from urllib.parse import urlsplit

# detect-secrets plugins that judge a value by its own shape. Left out: Base64HighEntropyString and
# HexHighEntropyString (flag hashes, ids and ordinary words), KeywordDetector (judges names, which
# ``looks_secret_name`` already does), IPPublicDetector (an IP address is not a credential).
EXCLUDED_PLUGINS = frozenset({"Base64HighEntropyString", "HexHighEntropyString", "KeywordDetector",
                              "IPPublicDetector"})
# Placeholders people leave in URLs; a password that is one of these is no secret.
PLACEHOLDER_PASSWORDS = frozenset({"", "password", "pass", "changeme", "xxx", "***", "<password>", "${password}"})
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


@lru_cache(maxsize=1)
def _plugins() -> tuple[dict, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    names = sorted({plugin.__name__ for plugin in get_mapping_from_secret_type_to_class().values()})
    return tuple({"name": name} for name in names if name not in EXCLUDED_PLUGINS)


def url_password(value: str) -> bool:
    """A URL in ``value`` carries a real password (``postgres://app:hunter2@db``, ``redis://:s3cret@cache``)."""
    for match in _URL.finditer(value):
        try:
            password = urlsplit(match.group(0)).password
        except ValueError:
            continue
        if password is not None and password.lower() not in PLACEHOLDER_PASSWORDS and not password.startswith("$"):
            return True
    return False


@lru_cache(maxsize=4096)
def secret_kinds(value: str) -> tuple[str, ...]:
    """What ``value`` looks like, e.g. ("GitHub Token",) or ("URL with a password",); () when nothing."""
    if not isinstance(value, str) or len(value) < 8:
        return ()
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import transient_settings

    kinds: list[str] = []
    with transient_settings({"plugins_used": list(_plugins()), "filters_used": []}):
        for line in value.splitlines() or [value]:
            for found in scan_line(line):
                kind = "URL with a password" if found.type == "Basic Auth Credentials" else found.type
                if kind not in kinds:
                    kinds.append(kind)
    if url_password(value) and "URL with a password" not in kinds:
        kinds.append("URL with a password")
    return tuple(kinds)


def looks_secret(name: str, words: Iterable[str]) -> bool:
    """A variable name that says it holds a secret (split at ``_ - .``). A name that points at where a
    secret is (…_FILE, …_PATH, …_ARN, …_NAME) does not."""
    parts = [p for p in re.split(r"[_\-.]", name.upper()) if p]
    if parts and parts[-1] in ("FILE", "PATH", "ARN", "NAME"):
        return False
    wanted = {w.upper() for w in words}
    return any(p in wanted for p in parts) or any(w in "".join(parts) for w in wanted if len(w) >= 6)


def judge(name: str, value: str, words: Iterable[str]) -> str:
    """Why ``name=value`` must not be a literal (empty: it may). The value decides first: a live token or a
    URL with a password is a secret whatever the variable is called."""
    if not isinstance(value, str) or value == "":
        return ""
    kinds = secret_kinds(value)
    if kinds:
        return f"its value looks like a live credential ({', '.join(kinds)})"
    if looks_secret(name, words):
        return "its name looks like a secret's"
    return ""
