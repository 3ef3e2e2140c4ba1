"""Who may do what on the simulator: static bearer tokens, client certificates, and a small RBAC-like
policy. The same data answers TokenReview and SubjectAccessReview, so extension API servers (our
resource-metrics) delegate to the simulator exactly as they would to kube-apiserver.

Built in:

* the admin token (user ``kubescope-admin``, group ``system:masters``: allowed everything);
* the defaults every cluster grants: discovery, ``/version`` and health paths to everyone
  (``system:public-info-viewer``, ``system:discovery``), SelfSubjectAccessReview to authenticated users.

``--auth-file FILE`` (YAML) adds users and rules::

    tokens:
      - {token: s3cret, user: alice, groups: [dev]}
    rules:
      - {users: [alice], verbs: [get, list, watch], resources: [pods], namespaces: [shop]}
      - {groups: [monitoring], verbs: [get], nonResourceURLs: [/metrics]}
      - {groups: [dev], verbs: ["*"], apiGroups: ["metrics.k8s.io"], resources: ["*"]}

A rule field left out matches anything; ``"*"`` also matches anything.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubescope.apiserver.requestinfo import RequestInfo
from kubescope.errors import ConfigError

MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version", "/version/")
DISCOVERY_PREFIXES = ("/api", "/apis", "/openapi")


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def with_defaults(self) -> User:
        groups = self.groups
        if self.name != ANONYMOUS and AUTHENTICATED not in groups:
            groups = (*groups, AUTHENTICATED)
        return User(self.name, groups, self.uid, self.extra)


ANONYMOUS_USER = User(ANONYMOUS, (UNAUTHENTICATED,))


@dataclass(frozen=True)
class Rule:
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset({"*"})
    api_groups: frozenset[str] = frozenset({"*"})
    resources: frozenset[str] = frozenset({"*"})
    namespaces: frozenset[str] = frozenset({"*"})
    resource_names: frozenset[str] = frozenset({"*"})
    non_resource_urls: frozenset[str] = frozenset()

    def subject_matches(self, user: User) -> bool:
        if not self.users and not self.groups:
            return True
        return user.name in self.users or any(g in self.groups for g in user.groups)

    def allows(self, user: User, info: RequestInfo) -> bool:
        if not self.subject_matches(user):
            return False
        if not _has(self.verbs, info.verb):
            return False
        if not info.is_resource_request:
            return any(_url_match(p, info.path) for p in self.non_resource_urls)
        if self.non_resource_urls and not self.resources - {"*"}:
            return False
        resource = info.resource + ("/" + info.subresource if info.subresource else "")
        return (
            _has(self.api_groups, info.group)
            and (
                _has(self.resources, resource)
                # RBAC's ResourceMatches: "*/scale" grants that subresource of every resource
                or bool(info.subresource and "*/" + info.subresource in self.resources)
            )
            and _has(self.namespaces, info.namespace or "")
            and _has(self.resource_names, info.name)
        )


_RULE_KEYS = frozenset(
    {"users", "groups", "verbs", "apiGroups", "resources", "namespaces", "resourceNames", "nonResourceURLs"}
)


def _has(s: frozenset[str], v: str) -> bool:
    return "*" in s or v in s


def _url_match(pattern: str, path: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def _set(v: Any, default: Iterable[str] = ("*",)) -> frozenset[str]:
    if v is None:
        return frozenset(default)
    if isinstance(v, str):
        return frozenset({v})
    return frozenset(str(x) for x in v)


@dataclass
class AuthConfig:
    """Tokens and rules; ``admin_token`` is generated unless given."""

    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    tokens: dict[str, User] = field(default_factory=dict)
    expiries: dict[str, float] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tokens.setdefault(self.admin_token, User("kubescope-admin", (MASTERS,)))

    @classmethod
    def load(cls, path: str, admin_token: str = "") -> AuthConfig:
        cfg = cls(admin_token=admin_token) if admin_token else cls()
        if not path:
            return cfg
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"--auth-file={path}: cannot read it: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"--auth-file={path}: expected a map with 'tokens' and 'rules'")
        for t in data.get("tokens") or []:
            if not isinstance(t, dict) or not t.get("token") or not t.get("user"):
                raise ConfigError(f"--auth-file={path}: each token needs 'token' and 'user': {t!r}")
            cfg.tokens[str(t["token"])] = User(
                str(t["user"]), tuple(str(g) for g in t.get("groups") or ()), str(t.get("uid", ""))
            )
        cfg.rules += cls.load_rules(data.get("rules") or [], f"--auth-file={path}")
        return cfg

    @staticmethod
    def load_rules(rules: Iterable[Any], source: str = "rules") -> list[Rule]:
        """Rules from their YAML/JSON form (see the module docstring)."""
        out = []
        for r in rules:
            if not isinstance(r, dict):
                raise ConfigError(f"{source}: each rule must be a map: {r!r}")
            unknown = set(r) - _RULE_KEYS
            if unknown:
                raise ConfigError(
                    f"{source}: unknown rule fields {sorted(unknown)}; known: {sorted(_RULE_KEYS)}"
                )
            out.append(
                Rule(
                    users=_set(r.get("users"), ()),
                    groups=_set(r.get("groups"), ()),
                    verbs=_set(r.get("verbs")),
                    api_groups=_set(r.get("apiGroups")),
                    resources=_set(r.get("resources")),
                    namespaces=_set(r.get("namespaces")),
                    resource_names=_set(r.get("resourceNames")),
                    non_resource_urls=_set(r.get("nonResourceURLs"), ()),
                )
            )
        return out

    def add_token(self, token: str, user: User) -> None:
        self.tokens[token] = user

    def authenticate_token(self, token: str) -> User | None:
        # a dict lookup, not a scan: issued service-account tokens may number in the thousands
        u = self.tokens.get(token)
        if u is None:
            return None
        expiry = self.expiries.get(token)
        if expiry is not None and time.time() >= expiry:
            del self.tokens[token], self.expiries[token]
            return None
        return u.with_defaults()

    def issue_service_account_token(self, namespace: str, name: str, seconds: int) -> tuple[str, float]:
        """A bound token for a ServiceAccount (TokenRequest): valid for ``seconds``."""
        token = secrets.token_urlsafe(32)
        expiry = time.time() + seconds
        self.tokens[token] = User(
            f"system:serviceaccount:{namespace}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
        )
        self.expiries[token] = expiry
        return token, expiry

    def authorize(self, user: User, info: RequestInfo) -> tuple[bool, str]:
        if MASTERS in user.groups:
            return True, ""
        if not info.is_resource_request:
            if info.path in PUBLIC_PATHS or info.path.startswith(("/healthz/", "/livez/", "/readyz/")):
                return True, ""
            if AUTHENTICATED in user.groups and (
                info.path in DISCOVERY_PREFIXES
                or info.path.startswith(tuple(p + "/" for p in DISCOVERY_PREFIXES))
            ):
                return True, ""
        elif (
            AUTHENTICATED in user.groups
            and info.group == "authorization.k8s.io"
            and info.resource == "selfsubjectaccessreviews"
            and info.verb == "create"
        ):
            return True, ""
        for r in self.rules:
            if r.allows(user, info):
                return True, ""
        return False, ""
