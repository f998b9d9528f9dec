"""Lift over the real-only control: scenarios, models, bootstrap intervals."""
