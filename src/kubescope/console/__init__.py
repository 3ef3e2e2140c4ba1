"""``kubescope console``: a web view of the cluster's usage now and over time, its autoscalers and events.

Built on kubescope's own APIs: object metadata from watches (:mod:`.cluster`), current usage polled
from the Metrics API into a 15-minute ring (:mod:`.usage`), usage over time from kubescope history and
event timelines from kubescope events, both through the API server's aggregation layer
(:mod:`.sources`). Pages are HTML rendered on the server (:mod:`.pages`, Jinja2 templates), one URL per
view; charts are drawn in the browser by uPlot (vendored under ``static/vendor/uplot`` with its MIT
license, nothing fetched at run time), each from one JSON request (:mod:`.chartdata`).
"""
