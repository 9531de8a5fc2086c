"""ASGI entry point: the `web` process (uvicorn) serves admin, API and Server-Sent Events."""

import os
from typing import Any

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
application: Any = get_asgi_application()

if settings.DEBUG:
    # Development serves static files itself; production puts them behind the proxy.
    from cms.static_files import StaticFilesHandler

    application = StaticFilesHandler(application)

# Outermost: oversized bodies and anonymous uploads are refused before anything reads them.
from cms.request_limits import RequestLimits  # noqa: E402

application = RequestLimits(application)
