"""Hookline benchmarks: ``python -m bench`` (dispatch, cold start, the cost model), ``python -m bench.cost``
(the cost model alone) and ``python -m bench.local_stack_bench`` (the local stack). Commands and recorded
figures: bench/README.md."""
