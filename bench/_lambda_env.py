"""The Lambda-like process setup, done before anything imports ``hookline``.

- The common layer's directory goes on ``sys.path`` (Lambda puts layers at ``/opt/python``), so that
  ``python -m bench`` works from the repository without ``PYTHONPATH``.
- ``hookline.observability`` builds powertools' Logger and Metrics at import time from the environment, as
  a Lambda cold start does, so the template's Globals must be in place before the first ``import hookline``.
  ``bench.harness`` imports this module first and checks these values against the deployed template.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYER = REPO / "layers" / "common"

POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": "hookline",
    "POWERTOOLS_METRICS_NAMESPACE": "Hookline",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

for _path in (str(REPO), str(LAYER)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
os.environ.update(POWERTOOLS_ENV)
