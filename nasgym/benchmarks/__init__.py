"""Benchmark backends: measured metric tables bound to a search space."""
