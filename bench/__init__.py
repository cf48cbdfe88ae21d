"""Benchmarks that print figures (not timed tests). Run ``python bench/pipeline.py``."""
