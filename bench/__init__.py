"""Hookline benchmarks: ``python -m bench`` (dispatch and cold start) and
``python -m bench.local_stack_bench`` (the local stack). Commands and recorded figures: bench/README.md."""
