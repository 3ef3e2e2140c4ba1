"""Protocol questions whose answers a real kube-apiserver 1.36 gives otherwise than the simulator did:
list options, validation of names and field types, paths nothing serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.sim.conftest import Api, configmap, start_api

CMS = "/api/v1/namespaces/default/configmaps"
RFC1123_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    r"is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


async def test_a_resource_version_0_list_ignores_limit(api: Api) -> None:
    """Served from the watch cache: everything in one answer, no continue token."""
    for i in range(5):
        await api.ok("POST", CMS, configmap(f"c{i}"))
    doc = await api.ok("GET", f"{CMS}?resourceVersion=0&limit=2")
    assert len(doc["items"]) == 5
    assert "continue" not in doc["metadata"] and "remainingItemCount" not in doc["metadata"]
    # without resourceVersion=0 the list is paginated
    doc = await api.ok("GET", f"{CMS}?limit=2")
    assert len(doc["items"]) == 2 and doc["metadata"]["continue"]


def list_options_invalid(*errors: tuple[str, str, str]) -> dict[str, object]:
    """kube-apiserver's Status for ListOptions that fail validation: (field, type, body) per error."""
    bodies = [f"{f}: {body}" for f, _, body in errors]
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'ListOptions.meta.k8s.io "" is invalid: '
        + (bodies[0] if len(bodies) == 1 else "[" + ", ".join(bodies) + "]"),
        "reason": "Invalid",
        "details": {
            "group": "meta.k8s.io",
            "kind": "ListOptions",
            "causes": [{"reason": t, "message": body, "field": f} for f, t, body in errors],
        },
        "code": 422,
    }


FORBIDDEN = "FieldValueForbidden"


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        (
            "resourceVersionMatch=NotOlderThan",
            [
                (
                    "resourceVersionMatch",
                    FORBIDDEN,
                    "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                )
            ],
        ),
        (
            "resourceVersionMatch=Newest&resourceVersion=1",
            [
                (
                    "resourceVersionMatch",
                    "FieldValueNotSupported",
                    'Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""',
                )
            ],
        ),
        (
            "resourceVersionMatch=Exact&resourceVersion=0",
            [
                (
                    "resourceVersionMatch",
                    FORBIDDEN,
                    'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
                )
            ],
        ),
        (
            "resourceVersionMatch=Exact&continue=abc",
            [
                (
                    "resourceVersionMatch",
                    FORBIDDEN,
                    "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                ),
                (
                    "resourceVersionMatch",
                    FORBIDDEN,
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided",
                ),
            ],
        ),
        (
            "sendInitialEvents=true",
            [("sendInitialEvents", FORBIDDEN, "Forbidden: sendInitialEvents is forbidden for list")],
        ),
        (
            "watch=true&resourceVersionMatch=NotOlderThan",
            [
                (
                    "resourceVersionMatch",
                    FORBIDDEN,
                    "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                    "provided",
                )
            ],
        ),
        (
            "watch=true&sendInitialEvents=true&allowWatchBookmarks=true",
            [
                (
                    "resourceVersionMatch",
                    FORBIDDEN,
                    "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )
            ],
        ),
        (
            "watch=true&sendInitialEvents=true&resourceVersionMatch=Exact",
            [
                (
                    "resourceVersionMatch",
                    FORBIDDEN,
                    "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                ),
                (
                    "resourceVersionMatch",
                    "FieldValueNotSupported",
                    'Unsupported value: "Exact": supported values: "NotOlderThan"',
                ),
            ],
        ),
    ],
)
async def test_invalid_list_options_are_422_with_their_causes(
    api: Api, query: str, errors: list[tuple[str, str, str]]
) -> None:
    code, doc = await api.call("GET", f"{CMS}?{query}")
    assert (code, doc) == (422, list_options_invalid(*errors))


async def test_a_watch_list_without_bookmarks_is_valid_and_gets_no_end_bookmark(api: Api) -> None:
    await api.ok("POST", CMS, configmap("a"))
    evs = await api.watch(
        f"{CMS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
        lambda e: False,
        timeout=60,
    )
    assert [e["type"] for e in evs] == ["ADDED"]


async def test_a_watch_from_0_without_initial_events_starts_at_the_current_state(api: Api) -> None:
    await api.ok("POST", CMS, configmap("old"))

    async def make() -> None:
        await api.ok("POST", CMS, configmap("new"))

    evs = await api.watch(
        f"{CMS}?watch=true&resourceVersion=0&sendInitialEvents=false&resourceVersionMatch=NotOlderThan",
        lambda e: len(e) >= 1,
        during=make,
    )
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [("ADDED", "new")]


@pytest.mark.parametrize(
    "path",
    [
        "/apis/nosuch.example.com",
        "/apis/nosuch.example.com/v1",
        "/apis/nosuch.example.com/v1/widgets",
        "/apis/nosuch.example.com/v1/namespaces/default/widgets/w",
        "/nothing-here",
    ],
)
async def test_paths_nothing_serves_are_a_plain_text_404(api: Api, path: str) -> None:
    code, body, headers = await api.raw("GET", path)
    assert (code, body) == (404, b"404 page not found\n")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_an_unknown_resource_of_a_served_group_is_a_status_404(api: Api) -> None:
    for path in ("/api/v1/widgets", "/apis/apps/v1/widgets", "/apis/apps/v9"):
        code, doc = await api.call("GET", path)
        assert (code, doc["message"]) == (404, "the server could not find the requested resource")


def invalid(kind: str, group: str, name: str, *errors: tuple[str, str, str]) -> dict[str, object]:
    bodies = [f"{f}: {body}" for f, _, body in errors]
    qualified = f"{kind}.{group}" if group else kind
    details: dict[str, object] = {"name": name, "group": group, "kind": kind}
    details = {k: v for k, v in details.items() if v}
    details["causes"] = [{"reason": t, "message": body, "field": f} for f, t, body in errors]
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'{qualified} "{name}" is invalid: '
        + (bodies[0] if len(bodies) == 1 else "[" + ", ".join(bodies) + "]"),
        "reason": "Invalid",
        "details": details,
        "code": 422,
    }


async def test_an_invalid_name_is_422_and_nothing_is_created(api: Api) -> None:
    code, doc = await api.call("POST", CMS, configmap("Bad_Name"))
    assert (code, doc) == (
        422,
        invalid(
            "ConfigMap",
            "",
            "Bad_Name",
            ("metadata.name", "FieldValueInvalid", f'Invalid value: "Bad_Name": {RFC1123_SUBDOMAIN}'),
        ),
    )
    assert not api.sim.store.exists("configmaps", "default", "Bad_Name")


@pytest.mark.parametrize(
    ("path", "body", "kind", "group", "error"),
    [
        (
            "/api/v1/namespaces",
            {"metadata": {"name": "Ab"}},
            "Namespace",
            "",
            (
                "metadata.name",
                "FieldValueInvalid",
                'Invalid value: "Ab": a lowercase RFC 1123 label must consist of lower case alphanumeric '
                "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
                "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ),
        ),
        (
            "/api/v1/namespaces/default/services",
            {"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}},
            "Service",
            "",
            (
                "metadata.name",
                "FieldValueInvalid",
                'Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters '
                "or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. "
                "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            ),
        ),
        (
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            {"metadata": {"name": "a/b"}},
            "ClusterRole",
            "rbac.authorization.k8s.io",
            ("metadata.name", "FieldValueInvalid", "Invalid value: \"a/b\": may not contain '/'"),
        ),
    ],
)
async def test_each_kind_validates_its_name_as_kube_apiserver_does(
    api: Api, path: str, body: dict[str, object], kind: str, group: str, error: tuple[str, str, str]
) -> None:
    code, doc = await api.call("POST", path, body)
    name = body["metadata"]["name"]  # type: ignore[index]
    assert (code, doc) == (422, invalid(kind, group, str(name), error))


async def test_invalid_labels_and_a_too_long_name_list_every_cause(api: Api) -> None:
    long = "a" * 254
    cm = configmap(long)
    cm["metadata"]["labels"] = {"bad key!": "v", "ok": "bad value"}
    code, doc = await api.call("POST", CMS, cm)
    assert code == 422
    causes = [(c["field"], c["message"]) for c in doc["details"]["causes"]]
    assert causes[0] == ("metadata.name", f'Invalid value: "{long}": must be no more than 253 characters')
    assert [f for f, _ in causes[1:]] == ["metadata.labels", "metadata.labels"]
    assert causes[1][1].startswith('Invalid value: "bad key!": name part must consist of alphanumeric')
    assert causes[2][1].startswith('Invalid value: "bad value": a valid label must be an empty string')


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            CMS,
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"}, "data": {"a": 1}},
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number '
            "into Go struct field ConfigMap.data of type string",
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "d"},
                "spec": {"replicas": "2"},
            },
            'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string '
            "into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            "/api/v1/namespaces/default/pods",
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": 3}], "restartPolicy": True},
            },
            'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct '
            "field Container.spec.containers.image of type string",
        ),
        (
            "/api/v1/namespaces/default/pods",
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": ["x"]}},
            'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal array into Go struct '
            "field ObjectMeta.metadata.labels of type map[string]string",
        ),
    ],
)
async def test_a_wrongly_typed_field_is_400_with_the_decoding_error(
    api: Api, path: str, body: dict[str, object], message: str
) -> None:
    rv = api.sim.store.resource_version
    code, doc = await api.call("POST", path, body)
    assert (code, doc["reason"], doc["message"]) == (400, "BadRequest", message)
    assert api.sim.store.resource_version == rv  # nothing written


async def test_metrics_tell_whether_the_server_serves_watch_list(api: Api) -> None:
    """kube-apiserver advertises features in no discovery document; its /metrics tells."""
    code, body, headers = await api.raw("GET", "/metrics")
    assert code == 200 and headers["Content-Type"].startswith("text/plain")
    assert 'kubernetes_feature_enabled{name="WatchList",stage="BETA"} 1' in body.decode().splitlines()


async def test_without_the_watch_list_feature_a_watch_list_is_refused(tmp_path: Path) -> None:
    """As kube-apiserver 1.33 (WatchList off by default) answers: the client falls back to list."""
    sim, api = await start_api(tmp_path, feature_gates={"WatchList": False})
    try:
        q = "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
        code, doc = await api.call("GET", f"{CMS}?{q}")
        assert (code, doc) == (
            422,
            list_options_invalid(
                (
                    "sendInitialEvents",
                    FORBIDDEN,
                    "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate "
                    "is enabled",
                )
            ),
        )
        # the legacy list + watch is served as ever
        await api.ok("GET", f"{CMS}?resourceVersion=0")
        _, body, _ = await api.raw("GET", "/metrics")
        assert 'kubernetes_feature_enabled{name="WatchList",stage="BETA"} 0' in body.decode()
    finally:
        await api.session.close()
        await sim.stop()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("WatchList=maybe", "invalid value of WatchList=maybe"),
        ("Nope=true", "unrecognized feature gate: Nope"),
        ("WatchList", "missing bool value for WatchList"),
    ],
)
def test_bad_feature_gates_exit_2_naming_the_flag(value: str, message: str) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "kubescope", "simulate", f"--feature-gates={value}", "--port=0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2
    assert p.stderr.startswith(f"kubescope simulate: --feature-gates={value}: ") and message in p.stderr
