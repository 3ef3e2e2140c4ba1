"""``kubescope demo``: a simulated cluster with every kubescope server attached (:mod:`.command`).

* :mod:`kubescope.demo.command`: the flags and the run: start, wire, print, watch, stop.
* :mod:`kubescope.demo.children`: the servers as subprocesses (:class:`~.children.Child`), their
  bound ports read from their logs, readiness over HTTP.
* :mod:`kubescope.demo.apiservices`: Service, Endpoints and APIServices for an aggregated API.
* :mod:`kubescope.demo.autoscaling`: Prometheus and ``kubescope custom-metrics`` for the HPA demo.
"""
