"""Settings and wiring: the only place that picks concrete adapters."""
