"""``kubescope history``: resource usage over time, recorded into an embedded store and answered
as a fixed set of questions (series, aggregations, recommendations, idleness).

* :mod:`.codec`, :mod:`.sketch`, :mod:`.rollup`, :mod:`.series`: the pure core: chunk coding,
  the mergeable percentile sketch, bulk rollups, what a series is;
* :mod:`.store`: the SQLite file (head, compaction, retention, reads).
"""
