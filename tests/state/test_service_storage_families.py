"""Namespace, Service, Endpoints, EndpointSlice, PDB, HPA, PV and PVC families."""

from __future__ import annotations

from tests.state.ksm import label_names, render, sample_value


def test_namespace_phase_pair_and_conditions() -> None:
    got = render(
        "namespaces",
        {
            "metadata": {"name": "shop"},
            "status": {
                "phase": "Terminating",
                "conditions": [{"type": "NamespaceDeletionContentFailure", "status": "True"}],
            },
        },
    )
    assert sample_value(got, "kube_namespace_status_phase", {"phase": "Terminating"}) == 1
    assert sample_value(got, "kube_namespace_status_phase", {"phase": "Active"}) == 0
    assert (
        sample_value(
            got,
            "kube_namespace_status_condition",
            {"condition": "NamespaceDeletionContentFailure", "status": "true"},
        )
        == 1
    )


def test_service_identity_has_uid_and_lb_ingress() -> None:
    svc = {
        "metadata": {"name": "web", "namespace": "n", "uid": "u1"},
        "spec": {
            "type": "LoadBalancer",
            "clusterIP": "10.0.0.1",
            "externalTrafficPolicy": "Local",
            "externalIPs": ["1.2.3.4"],
        },
        "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}},
    }
    got = render("services", svc)
    assert label_names(got, "kube_service_info")[0] == [
        "namespace",
        "service",
        "uid",
        "cluster_ip",
        "external_name",
        "load_balancer_ip",
        "external_traffic_policy",
    ]
    assert (
        sample_value(
            got, "kube_service_status_load_balancer_ingress", {"ip": "", "hostname": "lb.example.com"}
        )
        == 1
    )
    assert sample_value(got, "kube_service_spec_external_ip", {"external_ip": "1.2.3.4"}) == 1


def test_endpoints_address_label_order_and_deprecated_ports_help() -> None:
    ep = {
        "metadata": {"name": "web", "namespace": "n"},
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.1"}],
                "notReadyAddresses": [{"ip": "10.0.0.2"}],
                "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
            }
        ],
    }
    got = render("endpoints", ep)
    assert label_names(got, "kube_endpoint_address")[0] == [
        "namespace",
        "endpoint",
        "port_protocol",
        "port_number",
        "port_name",
        "ip",
        "ready",
    ]
    assert sample_value(got, "kube_endpoint_address", {"ip": "10.0.0.2", "ready": "false"}) == 1
    assert (
        "# HELP kube_endpoint_ports [STABLE] (Deprecated since v2.14.0) Information about the Endpoint ports."
        in got
    )


def test_endpointslice_missing_optional_fields_are_empty_strings() -> None:
    es = {
        "metadata": {"name": "web-x", "namespace": "n"},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}}],
        "ports": [{"port": 80}],
    }
    got = render("endpointslices", es)
    assert (
        sample_value(
            got,
            "kube_endpointslice_endpoints",
            {"ready": "true", "serving": "", "terminating": "", "endpoint_nodename": ""},
        )
        == 1
    )
    assert (
        sample_value(
            got, "kube_endpointslice_ports", {"port_name": "", "port_protocol": "", "port_number": "80"}
        )
        == 1
    )
    assert label_names(got, "kube_endpointslice_info")[0] == ["endpointslice", "namespace", "addresstype"]


def test_hpa_targets_defaults_and_skipped_status_sources() -> None:
    hpa = {
        "metadata": {"name": "api", "namespace": "n"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "api"},
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "ContainerResource",
                    "containerResource": {
                        "name": "cpu",
                        "container": "app",
                        "target": {"type": "Utilization", "averageUtilization": 60},
                    },
                },
                {
                    "type": "External",
                    "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "1500m"}},
                },
            ],
            "behavior": {"scaleDown": {"tolerance": "50m"}},
        },
        "status": {
            "currentMetrics": [
                {"type": "Resource"},
                {"type": "Pods", "pods": {"metric": {"name": "rps"}, "current": {"averageValue": "2k"}}},
            ]
        },
    }
    got = render("horizontalpodautoscalers", hpa)
    assert sample_value(got, "kube_horizontalpodautoscaler_spec_min_replicas") == 1
    assert (
        sample_value(
            got,
            "kube_horizontalpodautoscaler_spec_target_metric",
            {"metric_name": "cpu", "metric_target_type": "utilization", "container": "app"},
        )
        == 60
    )
    assert (
        sample_value(
            got,
            "kube_horizontalpodautoscaler_spec_target_metric",
            {"metric_name": "queue", "metric_target_type": "value"},
        )
        == 1.5
    )
    assert (
        sample_value(
            got,
            "kube_horizontalpodautoscaler_status_target_metric",
            {"metric_name": "rps", "metric_target_type": "average"},
        )
        == 2000
    )
    assert sample_value(got, "kube_horizontalpodautoscaler_spec_behavior_scale_down_tolerance") == 0.05
    assert "kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance{" not in got
    # KSM prints AsApproximateFloat64(): 3 x Pow10(-1), not the nearest float to 0.3
    hpa["spec"]["behavior"] = {"scaleUp": {"tolerance": "0.3"}}  # type: ignore[index]
    line = 'kube_horizontalpodautoscaler_spec_behavior_scale_up_tolerance{namespace="n",horizontalpodautoscaler="api"} '
    assert line + "0.30000000000000004\n" in render("horizontalpodautoscalers", hpa)
    # no apiVersion on the target ref -> no scaletargetref_api_version label at all
    assert label_names(got, "kube_horizontalpodautoscaler_info")[0] == [
        "namespace",
        "horizontalpodautoscaler",
        "scaletargetref_kind",
        "scaletargetref_name",
    ]


def test_pv_sources_and_default_volume_mode() -> None:
    pv = {
        "metadata": {"name": "pv1"},
        "spec": {
            "storageClassName": "fast",
            "capacity": {"storage": "10Gi"},
            "fc": {"lun": 3, "targetWWNs": ["a", "b"], "wwids": ["x"]},
            "persistentVolumeReclaimPolicy": "Retain",
        },
        "status": {"phase": "Released"},
    }
    got = render("persistentvolumes", pv)
    assert (
        sample_value(
            got,
            "kube_persistentvolume_info",
            {"fc_lun": "3", "fc_target_wwns": "a,b", "fc_wwids": "x", "reclaim_policy": "Retain"},
        )
        == 1
    )
    assert sample_value(got, "kube_persistentvolume_capacity_bytes") == 10737418240
    assert sample_value(got, "kube_persistentvolume_volume_mode", {"volumemode": "Filesystem"}) == 1
    assert sample_value(got, "kube_persistentvolume_status_phase", {"phase": "Released"}) == 1


def test_pvc_beta_storage_class_annotation_wins() -> None:
    pvc = {
        "metadata": {
            "name": "c",
            "namespace": "n",
            "annotations": {"volume.beta.kubernetes.io/storage-class": "legacy"},
        },
        "spec": {
            "storageClassName": "new",
            "resources": {"requests": {"storage": "1Gi"}},
            "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
        },
        "status": {"phase": "Pending"},
    }
    got = render("persistentvolumeclaims", pvc)
    assert (
        sample_value(got, "kube_persistentvolumeclaim_info", {"storageclass": "legacy", "volumemode": ""})
        == 1
    )
    assert sample_value(got, "kube_persistentvolumeclaim_resource_requests_storage_bytes") == 1073741824
    assert sample_value(got, "kube_persistentvolumeclaim_access_mode", {"access_mode": "ReadOnlyMany"}) == 1
    assert sample_value(got, "kube_persistentvolumeclaim_status_phase", {"phase": "Pending"}) == 1
