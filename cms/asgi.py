"""ASGI entry point: the `web` process (uvicorn) serves admin, API and Server-Sent Events."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
application = get_asgi_application()

if settings.DEBUG:
    # Development serves static files itself; production puts them behind the proxy.
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    application = ASGIStaticFilesHandler(application)
