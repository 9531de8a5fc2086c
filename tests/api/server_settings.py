"""Settings of the uvicorn server the event stream tests start: the app's, with short timers."""

from cms.settings import *  # noqa: F403

SIGHTLINE_SSE_KEEPALIVE_S = 0.5
SIGHTLINE_SSE_RETRY_MS = 100
