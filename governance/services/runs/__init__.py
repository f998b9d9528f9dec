"""Frontier runs: submission, execution, per-candidate evaluation and executors."""
