"""``kubescope events``: a long-term archive of Kubernetes Events and one merged view of live and
archived events.

* :mod:`.model`: the wire Structs of ``events.k8s.io/v1`` and ``core/v1`` Events, one normalized
  :class:`~.model.Record` per event version (kube-apiserver's conversion), validation (pure);
* :mod:`.schema`, :mod:`.store`: the archive in SQLite (one file, WAL) or PostgreSQL, written one
  batch per transaction with the stream's checkpoint, idempotent on (uid, resourceVersion);
* :mod:`.recorder`: the watch (resumed from the checkpoint, 410 -> relist), the bounded buffer and
  the writer; :mod:`.retention`: by age and size;
* :mod:`.selection`, :mod:`.render`, :mod:`.merge`, :mod:`.api`: field selectors and time ranges,
  the v1 Event JSON and Table, live + archived merged by uid, the aggregated API;
* :mod:`.app`, :mod:`.command`: the server and ``kubescope events [query]``.
"""
