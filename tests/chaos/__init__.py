"""``make chaos``: a chaos reconciliation run against the local stack (``python -m tests.chaos --help``)."""
