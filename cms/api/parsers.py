"""Request parsers: whatever a client sends, a parse failure is a 400, never a 500."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus the failures it lets through.

    Python's JSON decoder recurses once per nesting level, so ``[[[...]]]`` 1,000 deep raises
    ``RecursionError``, which DRF does not catch (it catches ``ValueError``, bad UTF-8 and
    other undecodable bytes included). Nesting is the client's doing: a ``ParseError`` (400).
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
