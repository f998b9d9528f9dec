"""Membership-inference attacks: distance, density and shadow-model attacks."""
