"""The one Logger, Tracer and Metrics of the process.

Names come from POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE (set by template.yaml); the
defaults here keep tools and the sandbox, which import this before any environment is set, consistent.
"""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "refund-sync")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "RefundSync")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
