"""Generators turn one row into one video (or a simulated one)."""
