"""``python -m bench``: every benchmark, a table on stdout, the figures in bench/results/latest.json."""

from bench.cli import main

raise SystemExit(main())
