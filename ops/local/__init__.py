"""Run an API on this machine the way Fargate runs it: one shared network namespace, the task definition's
environment, secrets, health checks and start order (``runner``)."""
