"""The simulated cluster's control plane: controllers and the kubelets' API side, driven by the
store's changes as kube-controller-manager's controllers are driven by their informers.

* :mod:`.runtime`: :class:`~.runtime.Controller`, work queues, timers, counted writes and the
  :class:`~.runtime.ControlPlane` that drains them;
* :mod:`.cache`: the shared pod and node caches (slim records, indexes, change handlers);
* :mod:`.cri`: the machines under the kubelets, where the world makes containers and kubelets fail;
* controllers: :mod:`.replicaset`, :mod:`.deployment`, :mod:`.statefulset`, :mod:`.daemonset`,
  :mod:`.job`, :mod:`.cronjob`, :mod:`.endpoints`, :mod:`.scheduler`, :mod:`.gc`,
  :mod:`.nodelifecycle`; the kubelets: :mod:`.podagent` (pods), :mod:`.nodeagent` (leases, status);
* :mod:`.plane`: all of them assembled (:class:`~.plane.Cluster`).
"""
