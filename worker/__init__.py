"""Celery app and tasks: thin wrappers that call agent.pipeline."""
