"""Nodes (control planes tainted, workers over three zones, a few NotReady or cordoned) and their
kubelets' Leases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from kubescope.sim.objects import nodes
from kubescope.sim.objects.meta import rfc3339
from kubescope.sim.scenario.gen import INSTANCE_TYPES, KUBE_VERSION, ZONES, Gen

Obj = dict[str, Any]


def node_objects(g: Gen) -> Iterator[tuple[str, Obj]]:
    cps = g.cfg.control_plane_count()
    for i, name in enumerate(g.cfg.node_names()):
        control = i < cps
        g.node_names.append(name)
        itype, cpus, mem_gi = INSTANCE_TYPES[0] if control else g.rng.choice(INSTANCE_TYPES)
        zone = ZONES[i % len(ZONES)]
        ip = g.cfg.node_ips.get(name) or f"172.20.{(i >> 8) & 255}.{i & 255}"
        g.node_ip[name] = ip
        g.node_zone[name] = zone
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/os": "linux",
            "kubernetes.io/hostname": name,
            "node.kubernetes.io/instance-type": itype,
            "topology.kubernetes.io/region": "eu-west-1",
            "topology.kubernetes.io/zone": zone,
        }
        taints: list[Obj] = []
        if control:
            labels["node-role.kubernetes.io/control-plane"] = ""
            taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
        else:
            labels["node-role.kubernetes.io/worker"] = ""
        not_ready = not control and g.rng.random() < 0.02
        cordoned = not control and not not_ready and g.rng.random() < 0.01
        if not_ready:
            taints.append(
                {
                    "key": "node.kubernetes.io/unreachable",
                    "effect": "NoExecute",
                    "timeAdded": rfc3339(g.ago(60, 600)),
                }
            )
        if cordoned:
            taints.append(
                {
                    "key": "node.kubernetes.io/unschedulable",
                    "effect": "NoSchedule",
                    "timeAdded": rfc3339(g.ago(600, 3600)),
                }
            )
        created = g.ago(86400 * 5, 86400 * 60)
        heartbeat = rfc3339(g.ago(0, 40))
        cap = {
            "cpu": str(cpus),
            "memory": f"{mem_gi * 1024 * 1024 - 350000}Ki",
            "pods": "110",
            "ephemeral-storage": "104845292Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "attachable-volumes-aws-ebs": "25",
        }
        alloc = dict(
            cap,
            cpu=f"{cpus * 1000 - 80}m",
            memory=f"{mem_gi * 1024 * 1024 - 850000}Ki",
            **{"ephemeral-storage": "96625420948"},
        )

        transition = rfc3339(created + 120)
        conditions = [nodes.condition(typ, heartbeat, transition) for typ in nodes.HEALTHY]
        if not_ready:
            lost_heartbeat = rfc3339(g.ago(300, 600))
            conditions[-1] = nodes.condition("Ready", lost_heartbeat, rfc3339(g.ago(60, 300)), nodes.LOST)
        node: Obj = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": g.meta(
                name,
                created=created,
                labels=labels,
                annotations={
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            ),
            "spec": {
                "podCIDR": f"10.{64 + i // 256}.{i % 256}.0/24",
                "podCIDRs": [f"10.{64 + i // 256}.{i % 256}.0/24"],
                "providerID": f"aws:///eu-west-1{zone[-1]}/i-{g.hexid(17)}",
                **({"taints": taints} if taints else {}),
                **({"unschedulable": True} if cordoned else {}),
            },
            "status": {
                "capacity": cap,
                "allocatable": alloc,
                "conditions": conditions,
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": name},
                    {"type": "InternalDNS", "address": f"{name}.eu-west-1.compute.internal"},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": g.hexid(32),
                    "systemUUID": str(uuid.UUID(int=g.rng.getrandbits(128))),
                    "bootID": str(uuid.UUID(int=g.rng.getrandbits(128))),
                    "kernelVersion": "6.1.115-126.197.amzn2023.x86_64",
                    "osImage": "Amazon Linux 2023.6.20241121",
                    "containerRuntimeVersion": "containerd://1.7.23",
                    "kubeletVersion": KUBE_VERSION,
                    "kubeProxyVersion": "",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
                "images": [],
            },
        }
        yield "nodes", node
        yield (
            "leases.coordination.k8s.io",
            {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": g.meta(
                    name,
                    "kube-node-lease",
                    created=created,
                    owner=("v1", "Node", name, node["metadata"]["uid"]),
                ),
                "spec": {
                    "holderIdentity": name,
                    "leaseDurationSeconds": 40,
                    "renewTime": datetime.fromtimestamp(g.ago(0, 10), UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                },
            },
        )
