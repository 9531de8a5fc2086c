"""The small exception hierarchy of the streams package."""

from __future__ import annotations

from streams.entities import StreamReason


class StreamError(Exception):
    """Base class of every error raised by the streams package."""


class UnsafeURLError(StreamError, ValueError):
    """A URL refused by the safety rules; the message is written for the operator."""


class SourceConnectionError(StreamError):
    """A source could not be opened or stopped delivering frames.

    `reason` says why; `detail` is for people and never contains a password;
    `permanent` is True when trying again cannot help (a refused URL, a finished file).
    """

    def __init__(self, reason: StreamReason, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.permanent = permanent


class Interrupted(StreamError):
    """The reader was stopped while a source was opening or reading."""
