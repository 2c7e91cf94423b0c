"""Benchmarks (``python -m bench``): not part of the test run."""
