"""What the command line guarantees every subcommand, today's and future ones, walked over each:
``--help`` states every default; an unknown flag or a bad value exits 2 naming the flag; a listen
port already in use exits 2 naming its flag, before the command does anything slow."""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubescope import cli
from kubescope.web import flags

# flags that name a port to connect to, not to listen on
CLIENT_PORTS = {("resource-metrics", "--kubelet-port"), ("history", "--kubelet-port")}
# listen ports not declared through kubescope.web.flags yet, with the reason
PENDING = {
    ("simulate", "--port"): "the simulator's flags are sim-api's to declare with web.flags.add_listen_flags",
    (
        "simulate",
        "--app-metrics-port",
    ): "the simulator's flags are sim-api's to declare with web.flags.add_listen_flags",
}


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """cli.main configures the process' logging (a handler on the test's captured stderr, no
    propagation): put it back for the tests that follow."""
    loggers = [logging.getLogger(n) for n in ("kubescope", "kubescope.progress")]
    saved = [(lg.handlers[:], lg.propagate, lg.level) for lg in loggers]
    yield
    for lg, (handlers, propagate, level) in zip(loggers, saved, strict=True):
        lg.handlers[:] = handlers
        lg.propagate = propagate
        lg.setLevel(level)


def subparsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for name in cli.COMMANDS:
        parser = cli.build_parser(only=name)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        yield name, sub.choices[name]


def options(p: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for a in p._actions:
        if a.option_strings and a.default is not argparse.SUPPRESS:
            yield a


def test_help_states_every_default() -> None:
    missing = []
    for name, p in subparsers():
        formatter = p._get_formatter()
        assert isinstance(formatter, flags.DefaultsHelpFormatter), name
        for a in options(p):
            text = formatter._get_help_string(a) % {"default": a.default, "prog": p.prog}
            if not flags._STATES_DEFAULT.search(text):
                missing.append(f"{name} {a.option_strings[-1]}")
        p.format_help()  # renders (no stray % in a help text)
    assert missing == []


def bad_value(a: argparse.Action) -> str | None:
    if a.choices is not None:
        return "no-such-choice"
    if a.type in (int, float, flags.port_number):
        return "not-a-number"
    if a.type in (flags.go_bool,) or getattr(a.type, "__name__", "") == "go_bool":
        return "maybe"
    if a.type is flags.go_duration:
        return "soon"
    return None


def positionals(p: argparse.ArgumentParser) -> list[str]:
    """A value for each required positional argument (so that the flag is what argparse rejects)."""
    return [
        "x"
        for a in p._actions
        if not a.option_strings
        and not isinstance(a, argparse._SubParsersAction)
        and a.nargs not in ("?", "*")
    ]


def cases() -> Iterator[tuple[str, str, str]]:
    for name, p in subparsers():
        yield name, "--no-such-flag", ""
        for a in options(p):
            value = bad_value(a)
            if value is not None and a.nargs != 0:
                yield name, a.option_strings[-1], value


@pytest.mark.parametrize(("command", "flag", "value"), list(cases()))
def test_a_bad_flag_or_value_exits_2_naming_the_flag(
    command: str, flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    p = dict(subparsers())[command]
    argv = [command, f"{flag}={value}" if value else flag, *positionals(p)]
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    assert flag in capsys.readouterr().err


def listen_flags() -> Iterator[tuple[str, flags.ListenFlags, list[str]]]:
    for name, p in subparsers():
        declared = p.get_default(flags.LISTEN) or []
        zeros = [f"{d.port_flag}=0" for d in declared]
        for d in declared:
            yield name, d, zeros


KUBECONFIG = """
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def test_every_listen_port_is_declared() -> None:
    declared = {(name, d.port_flag) for name, d, _ in listen_flags()}
    ports = {
        (name, a.option_strings[-1])
        for name, p in subparsers()
        for a in options(p)
        if a.dest.endswith("port") and a.type in (int, flags.port_number)
    }
    undeclared = ports - declared - CLIENT_PORTS - set(PENDING)
    assert undeclared == set()
    assert set(PENDING) & declared == set(), "declared now: remove it from PENDING"
    assert {"state-metrics", "resource-metrics"} <= {name for name, _ in declared}


@pytest.mark.parametrize(
    ("command", "spec", "zeros"), list(listen_flags()), ids=lambda v: getattr(v, "port_flag", str(v))
)
def test_a_taken_port_exits_2_naming_the_flag(
    command: str,
    spec: flags.ListenFlags,
    zeros: list[str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # listeners not checked up front are bound by the server first thing: the command runs for real,
    # against a kubeconfig naming an API server nobody answers for
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    extra = [] if spec.precheck else [f"--kubeconfig={kubeconfig}"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        host = [f"{spec.host_flag}=127.0.0.1"] if spec.host_flag else []
        argv = [command, *zeros, *extra, *host, f"{spec.port_flag}={port}"]
        assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"kubescope {command}: {spec.port_flag}={port}: cannot listen on 127.0.0.1:{port}" in err
    assert "address already in use" in err
