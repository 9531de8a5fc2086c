"""A display client for tests: reads a Server-Sent Events stream the way a browser's
EventSource does, in a thread of its own.

It follows the parts of the SSE processing model a display relies on
(https://html.spec.whatwg.org/multipage/server-sent-events.html): ``id:`` sets the last
event id, ``retry:`` the reconnection delay, a blank line dispatches an event, lines
starting with ``:`` are comments; when the connection ends or cannot be made, it waits the
reconnection delay and connects again with ``Last-Event-ID``. Every event is recorded with
the number of the connection that brought it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class ReceivedEvent:
    connection: int  # 1 for the first connection that brought events, and so on
    id: int
    event: str
    data: dict[str, Any]


class EventSourceClient(threading.Thread):
    def __init__(self, url: str, token: str, *, last_event_id: int | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.last_event_id = last_event_id
        self.retry_s = 3.0  # the spec's usual default, until the server says otherwise
        self.events: list[ReceivedEvent] = []
        self.connections = 0  # streams opened (200 answers)
        self.failed_attempts = 0  # refused connections, errors, non-200 answers
        self.resumed_from: list[int | None] = []  # Last-Event-ID sent, per stream opened
        self._closing = threading.Event()
        self._response: requests.Response | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            if self._response is not None:
                self._response.close()
        self.join(15)

    def ids(self) -> list[int]:
        return [event.id for event in list(self.events)]

    def run(self) -> None:
        while not self._closing.is_set():
            try:
                self._read_one_connection()
            except (requests.RequestException, OSError, ValueError, AttributeError):
                # AttributeError: http.client after close() from another thread
                if not self._closing.is_set():
                    self.failed_attempts += 1
            self._closing.wait(self.retry_s)

    def _read_one_connection(self) -> None:
        headers = {"Authorization": f"Token {self.token}", "Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        sent = self.last_event_id
        response = requests.get(self.url, headers=headers, stream=True, timeout=(2, 10))
        with self._lock:
            self._response = response
        try:
            if response.status_code != 200:
                self.failed_attempts += 1
                return
            self.connections += 1
            self.resumed_from.append(sent)
            self._read_events(response)
        finally:
            response.close()

    def _read_events(self, response: requests.Response) -> None:
        fields: dict[str, str] = {}
        for raw in response.iter_lines(decode_unicode=True):
            if self._closing.is_set():
                return
            line = raw or ""
            if line == "":
                self._dispatch(fields)
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "retry" and value.isdecimal():
                self.retry_s = int(value) / 1000
            elif name == "id":
                self.last_event_id = int(value)  # the last event id, kept across connections
                fields["id"] = value
            else:
                fields[name] = value

    def _dispatch(self, fields: dict[str, str]) -> None:
        if "data" not in fields or "id" not in fields:
            return
        self.events.append(
            ReceivedEvent(
                connection=self.connections,
                id=int(fields["id"]),
                event=fields.get("event", "message"),
                data=json.loads(fields["data"]),
            )
        )
