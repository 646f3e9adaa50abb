"""Hookline: signed webhook delivery on AWS Lambda, SQS and DynamoDB.

Handlers under ``functions/`` are thin; everything they do lives in this package, which ships as the
``common`` layer and imports from ``/opt/python`` on Lambda and through pytest's ``pythonpath`` in tests.
"""

__version__ = "0.1.0"
USER_AGENT = f"Hookline-Webhooks/{__version__} (+https://github.com/hookline/hookline)"
