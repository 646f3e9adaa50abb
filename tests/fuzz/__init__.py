"""``make fuzz``: hypothesis property tests of the API through the local stack (``python -m tests.fuzz``)."""
