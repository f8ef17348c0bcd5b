"""Gymnasium environments over NAS benchmarks."""
