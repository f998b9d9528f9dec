"""Fidelity of a candidate to a real sample: quality report, detection, manifold, tails."""
