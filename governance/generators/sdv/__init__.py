"""SDV single-table synthesizers as non-private baselines."""
