"""Wire types and value formats shared by every part of kubescope.

Nothing here does I/O: msgspec Structs for the API fields we read (:mod:`.meta`), apimachinery
quantities (:mod:`.quantity`), Go number and duration formatting (:mod:`.gofmt`) and
Kubernetes timestamps (:mod:`.timefmt`).
"""
