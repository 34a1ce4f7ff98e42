"""The one Logger, Tracer and Metrics of the process (named by POWERTOOLS_* environment variables)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
