"""What the operator sees of the running gateway: Prometheus metrics."""
