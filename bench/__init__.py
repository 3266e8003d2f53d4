"""Benchmarks of the PGBS API against bare baselines on the same machine; `make bench` runs them."""
