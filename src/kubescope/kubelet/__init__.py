"""The kubelets' client, shared by resource-metrics and history: which nodes, at which address and
port, over which connection, parsed how, and metrics-server's CPU rate rule."""
