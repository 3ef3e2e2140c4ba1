"""Fixtures for the events tests: an archive in each database (SQLite file, real PostgreSQL), and
events made to order."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest

from kubescope.events.model import EventMeta, Record, Ref, Series, V1Event, to_record
from kubescope.events.store import EventStore
from tests.pgserver import PostgresServer, available

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    if not available():
        pytest.fail("PostgreSQL is not installed: scripts/apt-deps installs Debian's postgresql")
    with PostgresServer() as pg:
        yield pg


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("ev") / "events.db")
    pg: PostgresServer = request.getfixturevalue("postgres")
    pg.reset()
    return pg.dsn


@pytest.fixture
def store(database: str) -> Iterator[EventStore]:
    s = EventStore(database)
    yield s
    s.close()


_rv = itertools.count(1000)
T0 = 1_760_000_000


def v1_event(
    name: str = "web-0",
    ns: str = "default",
    *,
    reason: str = "Started",
    kind: str = "Pod",
    note: str = "Started container web",
    type: str = "Normal",
    count: int | None = None,
    uid: str | None = None,
    rv: int | None = None,
    at: int = T0,
    controller: str = "kubelet",
    obj_uid: str = "",
    suffix: str | None = None,
) -> V1Event:
    t = f"{_iso(at)}"
    return V1Event(
        metadata=EventMeta(
            name=f"{name}.{suffix or uuid.uuid4().hex[:16]}",
            namespace=ns,
            uid=uid or str(uuid.uuid4()),
            resource_version=str(rv or next(_rv)),
            creation_timestamp=t,
        ),
        event_time=_iso(at, micro=True),
        reporting_controller=controller,
        reporting_instance="node-1",
        action=reason,
        reason=reason,
        note=note,
        type=type,
        regarding=Ref(
            kind=kind,
            namespace=ns,
            name=name,
            uid=obj_uid or str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{ns}/{kind}/{name}")),
            api_version="v1",
        ),
        series=Series(count=count, last_observed_time=_iso(at, micro=True)) if count else None,
    )


def record(**kw: object) -> Record:
    return to_record(v1_event(**kw))  # type: ignore[arg-type]


def _iso(t: int, micro: bool = False) -> str:
    import datetime as dt

    d = dt.datetime.fromtimestamp(t, dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")
