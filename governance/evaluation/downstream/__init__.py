"""Downstream metrics, one class per file, in the style of SDMetrics' BaseMetric."""
