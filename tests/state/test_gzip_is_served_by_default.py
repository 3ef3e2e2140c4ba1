"""gzip is on by default (the store keeps the text compressed, so it costs nothing to serve);
``--enable-gzip-encoding=false`` (Go's boolean flag syntax) keeps kube-state-metrics' behaviour."""

from __future__ import annotations

import argparse

import pytest

from kubescope.errors import ConfigError
from kubescope.state import flags as state_flags
from kubescope.state import settings as st


def parse(*argv: str, overrides: dict[str, object] | None = None) -> st.StateSettings:
    p = argparse.ArgumentParser(exit_on_error=False)
    state_flags.configure(p)
    return st.from_args(p.parse_args(list(argv)), overrides)


def test_gzip_is_on_unless_turned_off() -> None:
    assert parse().enable_gzip_encoding is True
    assert st.StateSettings().enable_gzip_encoding is True
    assert parse("--enable-gzip-encoding").enable_gzip_encoding is True
    for off in ("false", "0", "f", "F", "FALSE", "False"):
        assert parse(f"--enable-gzip-encoding={off}").enable_gzip_encoding is False, off
    for on in ("true", "1", "t", "T", "TRUE", "True"):
        assert parse(f"--enable-gzip-encoding={on}").enable_gzip_encoding is True, on


def test_a_bad_value_is_refused() -> None:
    with pytest.raises(argparse.ArgumentError, match="enable-gzip-encoding"):
        parse("--enable-gzip-encoding=nope")


def test_the_config_file_key_turns_it_off() -> None:
    assert parse(overrides={"enable_gzip_encoding": False}).enable_gzip_encoding is False
    assert parse(overrides={"enable_gzip_encoding": "false"}).enable_gzip_encoding is False
    with pytest.raises(ConfigError, match="enable_gzip_encoding"):
        parse(overrides={"enable_gzip_encoding": "sometimes"})
