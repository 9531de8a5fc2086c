"""Celery tasks wiring streams/ and inference/ to the database and Redis.

``celery -A tasks`` finds the application here.
"""

from tasks.celery import app

__all__ = ["app"]
