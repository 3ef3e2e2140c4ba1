"""Object builders: one place that writes a Pod, a ReplicaSet, a Job, a node condition, an endpoint
the way kube-apiserver stores them (its defaults applied), shared by the scenario generator (the
cluster at start) and the control plane and churn (what changes later).

* :mod:`.meta`: timestamps, object metadata, owner references;
* :mod:`.names`: seeded names, uids, pod IPs and container IDs for what is made at run time;
* :mod:`.pods`: pod specs from templates, conditions, container states and statuses, pods;
* :mod:`.workloads`: ReplicaSets, Jobs and the pod-template hash;
* :mod:`.nodes`: node conditions (healthy and lost) and taints;
* :mod:`.network`: EndpointSlice endpoints and Endpoints subsets;
* :mod:`.events`: Events as client-go's recorders write them, the kubelet's and scheduler's messages.

Builders are pure: every value that is drawn (names, times) is an argument.
"""
