"""Hookline benchmarks (see ``python -m bench.local_stack_bench`` for the local stack's)."""
