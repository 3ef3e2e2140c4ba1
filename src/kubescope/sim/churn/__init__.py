"""Churn: the world around the cluster (:mod:`.world`), a seeded stream of what its machines
(:mod:`.machines`) and its users (:mod:`.users`) do, drawn from what it can act on (:mod:`.pools`)
at real clusters' rates (:mod:`.rates`)."""
