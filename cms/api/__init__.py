"""The REST API (``/api/v1/``): display clients read their detections, operators run the farm.

Display clients authenticate with their display's token (cms.api.auth), operators with
the admin session or a DRF token. Server-Sent Events live in cms.api.events, an async
Django view served by the ASGI server.
"""
