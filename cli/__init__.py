"""The ``hookline`` command line and the one HTTP client for the v1 API that it, the demo, the benchmarks
and the end-to-end tests share (``cli.client``)."""
