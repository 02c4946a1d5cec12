"""Benchmarks: one command each, printing the figures that docs/BENCHMARKS.md records."""
