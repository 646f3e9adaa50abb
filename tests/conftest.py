"""Process-wide test environment, set before any test module imports the hookline package.

On Lambda these variables exist before the handler module is imported (template.yaml's Globals); the
module-level powertools Logger and Metrics read them at import, so tests must provide them just as early.
Fake credentials make sure nothing could ever reach real AWS.
"""

import os

os.environ.update(
    {
        "POWERTOOLS_SERVICE_NAME": "hookline",
        "POWERTOOLS_METRICS_NAMESPACE": "Hookline",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
