"""Log records for operators: secrets masked, the ids of what they are about, plain or JSON.

``cms/settings.py`` puts both filters on the one console handler, so every record of
every process (Django, Celery, uvicorn's access log, Flower) passes them:

- ``ContextFilter`` adds the camera, display, generation and worker ids that the code
  declared with ``log_context(...)`` (per thread) or ``set_process_context(...)`` (per
  process); ids given with ``extra=`` win.
- ``SecretsFilter`` masks URL passwords (``scheme://user:***@host``), secret query and
  key=value values (``?token=***``, ``password=***``) and Authorization headers in the
  message, the traceback and any string ``extra=`` value (the rules:
  ``streams.redaction.mask_secrets``).

``LOG_FORMAT=json`` writes one JSON object per line (``JsonFormatter``); the default is
one plain line with the ids appended (``PlainFormatter``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from streams.redaction import mask_secrets

# The ids a record can carry, in the order plain lines show them.
ID_FIELDS = ("camera_id", "display_id", "generation", "worker")

_thread_ids: ContextVar[dict[str, Any] | None] = ContextVar("sightline_log_ids", default=None)
_process_ids: dict[str, Any] = {}

# What every LogRecord has; anything else on a record came from `extra=` or a filter.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
    "taskName",
}


@contextmanager
def log_context(
    *,
    camera_id: int | None = None,
    display_id: int | None = None,
    generation: int | None = None,
    worker: str | None = None,
) -> Iterator[None]:
    """Attach these ids to every record logged in this thread (or task) inside the block."""
    given = {
        "camera_id": camera_id,
        "display_id": display_id,
        "generation": generation,
        "worker": worker,
    }
    ids = {**(_thread_ids.get() or {}), **{k: v for k, v in given.items() if v is not None}}
    token = _thread_ids.set(ids)
    try:
        yield
    finally:
        _thread_ids.reset(token)


def set_process_context(*, worker: str) -> None:
    """Attach ``worker`` to every record of this process (a Celery worker's hostname)."""
    _process_ids["worker"] = worker


def record_ids(record: logging.LogRecord) -> dict[str, Any]:
    """The ids a (filtered) record carries, in ``ID_FIELDS`` order."""
    return {
        name: getattr(record, name) for name in ID_FIELDS if getattr(record, name, None) is not None
    }


class ContextFilter(logging.Filter):
    """Adds the ids of ``log_context``/``set_process_context``; ``extra=`` ids win."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in {**_process_ids, **(_thread_ids.get() or {})}.items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class SecretsFilter(logging.Filter):
    """Masks secrets in the message, the traceback and string extras of every record."""

    _traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: still never print the raw arguments
            message = f"{record.msg} {record.args!r}"
        masked = mask_secrets(message)
        if masked != message or not isinstance(record.msg, str):
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Rendered here so that the formatter prints the masked text.
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, mask_secrets(value))
        return True


class PlainFormatter(logging.Formatter):
    """The given format, followed by the record's ids: ``... [camera_id=3 worker=ingest@a]``."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        ids = record_ids(record)
        if ids:
            line += f" [{' '.join(f'{name}={value}' for name, value in ids.items())}]"
        return line

    def format(self, record: logging.LogRecord) -> str:
        # Masked again as a whole: the filter may be missing on a handler someone adds.
        return mask_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, other extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_ids(record),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry and not name.startswith("_"):
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # Masked again as a whole, which also covers structured extras; the masks stop at
        # quotes and backslashes, so the line stays valid JSON.
        return mask_secrets(json.dumps(entry, default=str, ensure_ascii=False))
