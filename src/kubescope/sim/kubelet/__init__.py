"""Simulated kubelets, one per node: where they listen (:mod:`.plan`), what each knows of its
node and pods (:mod:`.pods`), their state followed from the store and sampled on the housekeeping
tick (:mod:`.nodes`, accounted by :mod:`.cgroups`), the text they answer (:mod:`.text`,
:mod:`.cadvisor`), and their listeners, TLS and authorization (:mod:`.serving`, whose
:func:`start_for_simulator` the simulator calls)."""
