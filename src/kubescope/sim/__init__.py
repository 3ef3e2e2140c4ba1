"""The cluster simulator: a Kubernetes-API-compatible server with a realistic simulated cluster.

:mod:`.store` (objects, resourceVersions, watch history), :mod:`.api` (the REST surface),
:mod:`.scenario` (cluster generation), :mod:`.server`/:mod:`.command` (the process),
:mod:`.process` (run it as a child process from tests, the demo and benchmarks).
"""
