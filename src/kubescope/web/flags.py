"""Command-line flag groups shared by every server, so each gets the same flags, defaults and checks.

* :func:`add_listen_flags`: a listener's host and port flags (any names: KSM's ``--host``/``--port``,
  the apiserver's ``--bind-address``/``--secure-port``). The ports are recorded on the parser, and
  the command line checks them before the command runs (:func:`check_listen_ports`): a port already
  in use stops the command with exit code 2 and a line naming the flag, before anything slow.
* :func:`add_tls_flags` / :func:`tls_options`: apiserver-style TLS (``--tls-cert-file``,
  ``--tls-private-key-file``, ``--cert-dir``, ``--tls-min-version``, ``--tls-cipher-suites``,
  ``--client-ca-file``) into a :class:`~kubescope.web.tls.TLSOptions`.
* :func:`add_shutdown_flags`: ``--shutdown-delay-duration``.
* Value types checked while parsing (a bad value exits 2 naming the flag, argparse's way):
  :func:`port_number`, :func:`go_duration` (Go's ``time.ParseDuration`` syntax; the text is kept, read it
  with :func:`seconds`), :func:`go_bool` (``--flag``, ``--flag=false``), :func:`cipher_suites`.
  (Checks needing more than one value, or ConfigError messages tests pin, stay in a command's
  settings builder: the command line turns a ConfigError into exit code 2 as well.)
* :class:`DefaultsHelpFormatter`: ``--help`` states every flag's default.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubescope.errors import ConfigError
from kubescope.model.gofmt import parse_go_duration
from kubescope.web.listeners import bind_sockets
from kubescope.web.tls import GO_CIPHERS, TLS_VERSIONS, TLSOptions

LISTEN = "_kubescope_listen_flags"
"""The parser default listing the listen flags declared on it (see :func:`check_listen_ports`)."""


# -- value types --------------------------------------------------------------------------------


def port_number(value: str) -> int:
    try:
        p = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {value!r}: use a number from 0 to 65535") from None
    if not 0 <= p <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {p}: use a number from 0 to 65535")
    return p


def go_duration(value: str) -> str:
    """A Go duration (``15s``, ``1m30s``, ``500ms``, ``0``); the text is kept (see :func:`seconds`)."""
    try:
        parse_go_duration(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'invalid duration {value!r}: use a number with a unit, e.g. "15s", "1m30s"'
        ) from None
    return value


def seconds(value: str, flag: str) -> float:
    """A Go duration's seconds; ConfigError naming ``flag`` when invalid."""
    try:
        return parse_go_duration(value.strip()) / 1e9
    except ValueError:
        raise ConfigError(
            f'{flag}={value!r}: invalid duration; use a number with a unit, e.g. "15s", "1m30s"'
        ) from None


def go_bool(value: str) -> bool:
    """Go's ``strconv.ParseBool`` (and yes/no)."""
    s = value.strip().lower()
    if s in ("1", "t", "true", "yes", "y"):
        return True
    if s in ("0", "f", "false", "no", "n"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {value!r}: use true or false")


def add_bool_flag(group: Any, name: str, *, default: bool = False, help: str) -> None:
    """``--name`` sets true, ``--name=false`` false (pflag's boolean flags)."""
    group.add_argument(name, nargs="?", const=True, default=default, type=go_bool, metavar="BOOL", help=help)


def cipher_suites(value: str) -> str:
    """A comma-separated list of Go cipher suite names; the text is kept."""
    for name in split(value):
        if name not in GO_CIPHERS:
            raise argparse.ArgumentTypeError(
                f"unknown or unsupported cipher suite {name!r}; use Go names such as "
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            )
    return value


def split(value: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in value.split(",") if s.strip())


# -- listeners --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListenFlags:
    """One listener's flags: recorded on the parser for the start-up port check."""

    host_flag: str | None
    """None: the listener's address is fixed (``host``)."""
    port_flag: str
    host: str = ""
    precheck: bool = True
    """Checked by the command line before the command runs (False when a configuration file may
    move the listener: then the server's own bind, first thing it does, names the flag)."""

    @property
    def port_dest(self) -> str:
        return _dest(self.port_flag)

    def address(self, args: argparse.Namespace) -> tuple[str, int]:
        host = getattr(args, _dest(self.host_flag)) if self.host_flag else self.host
        return host, getattr(args, self.port_dest)


def add_listen_flags(
    group: Any,
    *,
    host_flag: str | None,
    port_flag: str,
    host: str,
    port: int,
    what: str,
    host_help: str = "",
    port_help: str = "",
    precheck: bool = True,
) -> ListenFlags:
    """Add ``host_flag`` (unless None: then ``host`` is fixed) and ``port_flag`` for a listener
    serving ``what``."""
    if host_flag is not None:
        group.add_argument(host_flag, default=host, help=host_help or f"Address to serve {what} on.")
    group.add_argument(
        port_flag,
        type=port_number,
        default=port,
        help=port_help or f"Port to serve {what} on (0: any free port).",
    )
    spec = ListenFlags(host_flag, port_flag, host, precheck)
    declared = list(group.get_default(LISTEN) or [])
    group.set_defaults(**{LISTEN: [*declared, spec]})
    return spec


def listen_flags(args: argparse.Namespace) -> list[ListenFlags]:
    return list(getattr(args, LISTEN, None) or [])


def check_listen_ports(args: argparse.Namespace) -> None:
    """Bind (and release) every declared listener's address: BindError naming the flag if taken."""
    for spec in listen_flags(args):
        if not spec.precheck:
            continue
        host, port_value = spec.address(args)
        if port_value:
            for s in bind_sockets(host, port_value, spec.port_flag):
                s.close()


# -- TLS and shutdown -------------------------------------------------------------------------


def add_tls_flags(group: Any, *, cert_dir: str | None = None, client_ca: bool = True) -> None:
    """apiserver-style serving TLS flags; ``cert_dir``: the ``--cert-dir`` default (None: no flag,
    and no certificate means plain HTTP)."""
    if cert_dir is not None:
        group.add_argument(
            "--cert-dir",
            default=cert_dir,
            help="The directory where the TLS certs are located. If --tls-cert-file and --tls-private-key-file "
            "are provided, this flag will be ignored.",
        )
    group.add_argument(
        "--tls-cert-file", default="", help="File containing the default x509 Certificate for HTTPS."
    )
    group.add_argument(
        "--tls-private-key-file",
        default="",
        help="File containing the default x509 private key matching --tls-cert-file.",
    )
    group.add_argument(
        "--tls-min-version",
        default="VersionTLS12",
        choices=list(TLS_VERSIONS),
        help="Minimum TLS version supported.",
    )
    group.add_argument(
        "--tls-cipher-suites",
        default="",
        help="Comma-separated list of cipher suites for TLS 1.2 (Go names; empty: OpenSSL's defaults).",
    )
    if client_ca:
        group.add_argument(
            "--client-ca-file",
            default="",
            help="If set, any request presenting a client certificate signed by one of the authorities in the "
            "client-ca-file is authenticated with an identity corresponding to the CommonName of the client "
            "certificate.",
        )


def tls_options(args: argparse.Namespace, pair_name: str = "apiserver") -> TLSOptions:
    opts = TLSOptions(
        cert_file=args.tls_cert_file,
        key_file=args.tls_private_key_file,
        cert_dir=getattr(args, "cert_dir", ""),
        min_version=args.tls_min_version,
        cipher_suites=split(args.tls_cipher_suites),
        client_ca_file=getattr(args, "client_ca_file", ""),
        pair_name=pair_name,
    )
    opts.validate()
    return opts


def add_shutdown_flags(group: Any) -> None:
    group.add_argument(
        "--shutdown-delay-duration",
        default="0s",
        type=go_duration,
        help="Time to delay the termination: /readyz fails at once, requests are served until the delay "
        "elapses (load balancers and the aggregator stop sending first).",
    )


# -- help ----------------------------------------------------------------------------------------

_STATES_DEFAULT = re.compile(r"\(default[ :]|\bdefault: |\bdefaults to\b", re.IGNORECASE)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """States every flag's default: help texts that do not already say it get ``(default: X)``."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is argparse.SUPPRESS or not action.option_strings or _STATES_DEFAULT.search(text):
            return text
        return f"{text} (default: {shown_default(action.default).replace('%', '%%')})"


def shown_default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, Sequence):
        return ",".join(map(str, value)) if value else '""'
    return str(value)


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")
