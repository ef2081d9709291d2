"""Does a value look like a live credential? The one detection rule shared by the policy pack
(policies/rules.py ``no-secrets-in-environment``, policies/security_rules.py ``no-secrets-in-build-args``) and
the offline plan, which runs those rules.

Pure Python, no Pulumi. Names alone miss ``DATABASE_URL=postgres://app:hunter2@db/app`` and flag
``TOKEN_TTL=3600``; so values are judged too, with Yelp's detect-secrets (requirements.txt): its
pattern plugins recognise the formats of live tokens (AWS access keys, GitHub, GitLab, Slack, Stripe,
npm registry auth, PyPI, OpenAI, SendGrid, Twilio, JWTs, private keys, ...) and URLs with a password. Its
entropy and keyword plugins are left out on purpose: they flag ordinary values (``production``, git hashes,
URLs) and would make the rule noise. ``EXTRA_PATTERNS`` adds the formats it lacks (Google API keys, bare npm
tokens, Anthropic keys, MySQL DSNs and ``Password=...;`` connection strings; docs/design.md, "Secret detection").

Two verdicts, two policies (policies/credential_rules.py): a value whose *shape* is a live credential
(``secret_kinds``) blocks a deploy in every stack; a *name* that sounds secret (``name_reason``) advises in
dev and blocks where the stack's policy file says so. ``judge`` gives whichever applies, value first.
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
# Token formats detect-secrets 1.5 does not know (its NpmDetector only reads .npmrc's `_authToken=` lines).
# Shapes as the providers publish them and as gitleaks' default rules match them.
EXTRA_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Google API Key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    ("npm Token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("Anthropic API Key", re.compile(r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,}")),
)
# A password given as key=value, in the forms that only carry one (so that source code such as `password=pw` or
# `connect(password=self.password)` is not taken for a literal): a `;`-separated connection string (ADO.NET, ODBC,
# PDO `mysql:host=db;password=...`), a URL query (`?user=app&password=...`), a command's `--password=...`, or a
# whole value or line that is just `password=...`.
_CONNECTION_PASSWORD = re.compile(r"(?i)(?:^|;)\s*(?:password|passwd|pwd)\s*=\s*([^;]*)")
_QUERY_PASSWORD = re.compile(r"(?i)[?&](?:password|passwd|pwd)=([^&#\s\"']*)")
_OPTION_PASSWORD = re.compile(r"(?i)(?:^|\s)--?(?:password|passwd)=([^\s\"']*)")
_ONLY_PASSWORD = re.compile(r"(?i)^(?:password|passwd|pwd)\s*=\s*([^\s,;()]+)$")
# Go's MySQL driver DSN: `user:password@tcp(db:3306)/app`, `user:password@unix(/run/mysqld.sock)/app`.
_MYSQL_DSN = re.compile(r"(?:^|[\s\"'=])[^\s:@/\"'=]+:([^\s@/\"']+)@(?:tcp6?|udp|unix)\(")
# The shell's working directories: names that end in PWD without being passwords.
SHELL_DIRECTORIES = frozenset({"PWD", "OLDPWD"})
# A variable whose last word is one of these points at where a secret is, or says how one is used; it holds none.
POINTER_WORDS = ("FILE", "PATH", "ARN", "NAME")


@lru_cache(maxsize=1)
def _plugins() -> tuple[dict, ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    names = sorted({plugin.__name__ for plugin in get_mapping_from_secret_type_to_class().values()})
    return tuple({"name": name} for name in names if name not in EXCLUDED_PLUGINS)


def _placeholder(password: str) -> bool:
    """``${DB_PASSWORD}``, ``<password>``, ``%(password)s``, ``changeme``: no real password."""
    bare = password.strip().strip("\"'")
    return bare.lower() in PLACEHOLDER_PASSWORDS or bare[:1] in ("$", "<", "{", "%")


# `self.password`, `os.environ["DB_PASSWORD"]`, `config.db.password`: source code that reads a password from
# somewhere else. The source-zip scan reads code line by line, so these must not count as a written password.
_CODE_REFERENCE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\]]*\])+;?$")


def _code_reference(password: str) -> bool:
    return bool(_CODE_REFERENCE.match(password.strip()))


def keyed_password(value: str) -> bool:
    """``value`` sets a password as key=value (a connection string, a URL's query, a command's option)."""
    text = value.strip()
    found = [m.group(1) for m in _QUERY_PASSWORD.finditer(text)]
    found += [m.group(1) for m in _OPTION_PASSWORD.finditer(text)]
    found += [m.group(1) for m in _ONLY_PASSWORD.finditer(text)]
    for segment in (part for part in re.split(r"[\"']", text) if ";" in part and part.count("=") >= 2):
        found += [m.group(1) for m in _CONNECTION_PASSWORD.finditer(segment)]
    return any(not _placeholder(password) and not _code_reference(password) for password in found)


def mysql_dsn_password(value: str) -> bool:
    """``value`` holds a Go MySQL DSN with a password (``app:hunter2@tcp(db:3306)/app``)."""
    return any(not _placeholder(m.group(1)) for m in _MYSQL_DSN.finditer(value))


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
    for kind, pattern in EXTRA_PATTERNS:
        if pattern.search(value) and kind not in kinds:
            kinds.append(kind)
    if keyed_password(value):
        kinds.append("a password= setting")
    if mysql_dsn_password(value):
        kinds.append("MySQL DSN with a password")
    return tuple(kinds)


def looks_secret(name: str, words: Iterable[str]) -> bool:
    """A variable name that says it holds a secret (split at ``_ - .``). A name that points at where a
    secret is (…_FILE, …_PATH, …_ARN, …_NAME) does not, nor the shell's ``PWD``/``OLDPWD``."""
    if name.upper() in SHELL_DIRECTORIES:
        return False
    parts = [p for p in re.split(r"[_\-.]", name.upper()) if p]
    if parts and parts[-1] in POINTER_WORDS:
        return False
    wanted = {w.upper() for w in words}
    return any(p in wanted for p in parts) or any(w in "".join(parts) for w in wanted if len(w) >= 6)


# Values no one would call a credential even under a secret-sounding name (AUTH_ENABLED=true, SALT_ROUNDS=10,
# TOKEN_TTL=3600): a switch, or a whole number of at most 5 digits.
_HARMLESS = re.compile(r"(?i)^(?:true|false|yes|no|on|off|enabled|disabled|\d{1,5})$")


def name_reason(name: str, value: str, words: Iterable[str]) -> str:
    """Why ``name=value`` looks secret by its name alone ("" when it does not, or the value is a switch or a
    small number)."""
    if not isinstance(value, str) or value == "" or _HARMLESS.match(value.strip()):
        return ""
    return "its name looks like a secret's" if looks_secret(name, words) else ""


def value_reason(value: str) -> str:
    """Why ``value`` is a live credential whatever it is called ("" when it is not)."""
    kinds = secret_kinds(value) if isinstance(value, str) else ()
    return f"its value looks like a live credential ({', '.join(kinds)})" if kinds else ""


def judge(name: str, value: str, words: Iterable[str]) -> str:
    """Why ``name=value`` must not be a literal (empty: it may). The value decides first: a live token or a
    URL with a password is a secret whatever the variable is called."""
    if not isinstance(value, str) or value == "":
        return ""
    return value_reason(value) or name_reason(name, value, words)
