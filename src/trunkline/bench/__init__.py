"""Benchmarks of the performance-critical paths, runnable as ``trunkline bench NAME``."""
