"""Camera frame sources that never hang, never lag behind and always come back.

Knows nothing of Django or Celery: the farm hands it a SourceSpec and the URL rules,
and reads frames and statuses back.
"""

from streams.backoff import BackoffPolicy
from streams.entities import (
    TRANSITIONS,
    Frame,
    SourceSpec,
    StreamReason,
    StreamState,
    StreamStatus,
    can_transition,
)
from streams.errors import SourceConnectionError, StreamError, UnsafeURLError
from streams.reader import LatestFrameReader
from streams.redaction import redact_url
from streams.urls import validate_stream_url

__all__ = [
    "TRANSITIONS",
    "BackoffPolicy",
    "Frame",
    "LatestFrameReader",
    "SourceConnectionError",
    "SourceSpec",
    "StreamError",
    "StreamReason",
    "StreamState",
    "StreamStatus",
    "UnsafeURLError",
    "can_transition",
    "redact_url",
    "validate_stream_url",
]
