"""The value syntaxes on their own: durations, sizes, CPUs, ports, interpolation, YAML scalars."""
from __future__ import annotations

import pytest

from components.compose.interpolate import InterpolationError, interpolate_string
from components.compose.values import (as_bool, as_text, cpu_units, memory_mib, parse_bytes, parse_command,
                                       parse_duration, parse_port)
from components.compose.documents import Override, Reset, parse_documents
from components.errors import ConfigError
from components.compose.model import PortMapping


@pytest.mark.parametrize("text, seconds", [
    ("1m30s", 90.0), ("500ms", 0.5), ("1h", 3600.0), ("10s", 10.0), ("1.5s", 1.5), ("2h45m", 9900.0),
    ("100us", 0.0001), ("0", 0.0), (0, 0.0), ("1m0.5s", 60.5),
])
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["10", 10, "ten seconds", "1x", "", "-5s", True, [1], "s"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value, size", [
    (1024, 1024), ("512", 512), ("1k", 1024), ("1kb", 1024), ("50M", 50 * 1024 ** 2), ("1.5g", int(1.5 * 1024 ** 3)),
    ("2GiB", 2 * 1024 ** 3), ("1t", 1024 ** 4),
])
def test_byte_sizes(value, size):
    assert parse_bytes(value) == size


@pytest.mark.parametrize("value", ["lots", "1q", "-1m", True, None, [1], float("inf"), float("nan"), 1e309])
def test_bad_byte_sizes(value):
    with pytest.raises(ValueError):
        parse_bytes(value)


def test_memory_rounds_up_to_mib_and_cpus_to_units():
    assert memory_mib("50M") == 50 and memory_mib("1500k") == 2 and memory_mib(0) == 0
    assert cpu_units("0.5") == 512 and cpu_units(0.001) == 2 and cpu_units(2) == 2048 and cpu_units("0") == 0
    for bad in ("half", -1, "nan", "inf", True):
        with pytest.raises(ValueError):
            cpu_units(bad)


@pytest.mark.parametrize("value, expected", [
    (True, True), ("true", True), ("yes", True), ("on", True), ("1", True),
    (False, False), ("FALSE", False), ("off", False), ("0", False), ("n", False),
])
def test_booleans(value, expected):
    assert as_bool(value) is expected


@pytest.mark.parametrize("entry, mappings", [
    (80, [PortMapping(80)]),
    ("80", [PortMapping(80)]),
    ("8080:80", [PortMapping(80, host_port=8080)]),
    ("127.0.0.1:8080:80/udp", [PortMapping(80, "udp", 8080)]),
    ("127.0.0.1::80", [PortMapping(80)]),
    ("[::1]:8080:80", [PortMapping(80, host_port=8080)]),
    ("::1:8080:80", [PortMapping(80, host_port=8080)]),
    ("3000-3001", [PortMapping(3000), PortMapping(3001)]),
    ("9090-9091:8080-8081", [PortMapping(8080, host_port=9090), PortMapping(8081, host_port=9091)]),
    ("9090-9091:8080", [PortMapping(8080)]),
    ("80/TCP", [PortMapping(80)]),
    ({"target": 80, "published": "8080", "protocol": "udp"}, [PortMapping(80, "udp", 8080)]),
    ({"target": "80", "published": "8000-8010"}, [PortMapping(80, host_port=8000)]),
])
def test_ports(entry, mappings):
    assert parse_port(entry).mappings == mappings


@pytest.mark.parametrize("entry", [0, 65536, "0", "x", "80:", "1-2:3-5", "80/sctp", {"published": 80},
                                   {"target": "1-2"}, 1.5, True, None, ["80"], "5-3"])
def test_bad_ports(entry):
    with pytest.raises(ValueError):
        parse_port(entry)


def test_command_split_like_a_shell():
    assert parse_command("sh -c 'echo \"hi there\"'") == ["sh", "-c", 'echo "hi there"']
    assert parse_command(["a", 1, True]) == ["a", "1", "true"]
    with pytest.raises(ValueError):
        parse_command("echo 'open")


@pytest.mark.parametrize("text, expected", [
    ("$A", "a"), ("${A}", "a"), ("${B:-d}", "d"), ("${E:-d}", "d"), ("${E-d}", ""), ("${B-d}", "d"),
    ("${A:+alt}", "alt"), ("${E:+alt}", ""), ("${E+alt}", "alt"), ("${B+alt}", ""),
    ("${B:-${A:-x}}!", "a!"), ("${B:-${C:-deep}}", "deep"), ("$$A", "$A"), ("$$$A", "$a"),
    ("price: $ 5", "price: $ 5"), ("${A}${A}", "aa"), ("x${B:-}y", "xy"), ("${B:-a}}", "a}"),
])
def test_interpolation(text, expected):
    assert interpolate_string(text, {"A": "a", "E": ""}, lambda name: None) == expected


@pytest.mark.parametrize("text", ["${", "${}", "${1A}", "${A", "${A:-x", "${A!}", "${B:?missing}", "${E:?}", "${B?}"])
def test_interpolation_errors(text):
    with pytest.raises(InterpolationError):
        interpolate_string(text, {"A": "a", "E": ""}, lambda name: None)


def test_empty_value_passes_question_mark_without_colon():
    assert interpolate_string("${E?x}", {"E": ""}, lambda name: None) == ""


def test_unset_callback():
    seen = []
    assert interpolate_string("${NOPE}-$NOPE2", {}, seen.append) == "-"
    assert seen == ["NOPE", "NOPE2"]


def test_yaml_uses_1_2_scalars_and_compose_tags():
    [document] = parse_documents("a: 8000:80\nb: yes\nc: 0o17\nd: !reset\ne: !override [1]\nf: '2001-01-01'\n"
                                 "g: !override 7\nh: 1_000\ni: .inf\nj: 017\n", "f")
    assert document["a"] == "8000:80" and document["b"] == "yes" and document["c"] == 15
    assert isinstance(document["d"], Reset) and document["e"] == Override([1]) and document["f"] == "2001-01-01"
    assert document["g"] == Override(7)
    # as Docker Compose's parser (yaml.v3) reads them: 1_000 is 1000, .inf is +Inf, 017 is octal 15
    assert document["h"] == 1000 and as_text(document["i"]) == "+Inf" and document["j"] == 15


def test_an_unquoted_date_is_refused_as_compose_refuses_it():
    with pytest.raises(ConfigError, match="unquoted date '2001-01-01'.*quote it"):
        parse_documents("f: 2001-01-01\n", "f")


def test_yaml_merge_keys_work():
    [document] = parse_documents("x-base: &base {image: a, user: b}\nweb:\n  <<: *base\n  user: c\n", "f")
    assert document["web"] == {"image": "a", "user": "c"}


@pytest.mark.parametrize("text, words", [("a: 1\na: 2\n", "twice"), ("? [a]\n: 1\n", "plain value"),
                                         ("a: !!python/name:os.system\n", "not valid YAML")])
def test_yaml_errors(text, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        parse_documents(text, "f")
