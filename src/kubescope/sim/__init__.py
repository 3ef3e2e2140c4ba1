"""The cluster simulator: a Kubernetes-API-compatible server with a realistic simulated cluster.

* :mod:`.store`: objects as encoded JSON, one resourceVersion, watch history, consistent list
  snapshots, the node-name trigger index; the interface the cluster parts write through.
* :mod:`.resources`: the served resource types (scope, kind, verbs, short names, field selectors).
* :mod:`.api`: the REST surface (verbs, watch streams, Status errors, subresources), with
  :mod:`.discovery` (legacy and aggregated), :mod:`.tables` (server-side printing),
  :mod:`.patch` (merge, JSON, strategic merge, apply), :mod:`.defaults` (built-in defaulting) and
  :mod:`.protobuf` / :mod:`.protoschema` (kubectl's protobuf request bodies).
* :mod:`.auth` (tokens, certificates, the rule policy behind TokenReview/SubjectAccessReview),
  :mod:`.pki` (kubeadm-style CAs and certificates), :mod:`.aggregation` (APIService backends,
  availability, node proxy), :mod:`.faults` (faults on demand).
* :mod:`.scenario` (cluster generation), :mod:`.server` / :mod:`.command` (the process and its
  flags), :mod:`.process` (run it as a child process from tests, the demo and benchmarks).
"""
