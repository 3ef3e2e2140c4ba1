"""The HorizontalPodAutoscaler controller: :mod:`.calc` (the replica calculator), :mod:`.behavior`
(stabilization and scaling rules), :mod:`.status` (metrics to proposals, status and messages),
:mod:`.metrics` (the metrics APIs over HTTP), :mod:`.controller` (the control loop)."""
