"""An audience report's plays as CSV: one row per play, pure (rows in, text out).

Columns: ``content, started, ended, duration_s, impressions, mean_dwell_s, max_dwell_s``, then
one column per secondary model and label found in the report, named ``<model>:<label>``
(sorted), holding that play's count. An empty cell is null (a play still running has no
``ended``; a play without impressions has no dwell). Text a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

COLUMNS = (
    "content",
    "started",
    "ended",
    "duration_s",
    "impressions",
    "mean_dwell_s",
    "max_dwell_s",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def attribute_columns(plays: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Every (model, label) any play counted, sorted."""
    return sorted(
        {
            (model, label)
            for play in plays
            for model, counts in (play.get("attributes") or {}).items()
            for label in counts
        }
    )


def plays_csv(plays: list[Mapping[str, Any]]) -> str:
    """The CSV text of the plays (see the module doc)."""
    extra = attribute_columns(plays)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, *(safe_text(f"{m}:{label}") for m, label in extra)])
    for play in plays:
        attributes = play.get("attributes") or {}
        writer.writerow(
            [
                safe_text(play["content"]),
                *(_cell(play.get(column)) for column in COLUMNS[1:]),
                *(attributes.get(m, {}).get(label, 0) for m, label in extra),
            ]
        )
    return out.getvalue()


def safe_text(text: str) -> str:
    """``text`` as a cell no spreadsheet runs as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _cell(value: Any) -> Any:
    return "" if value is None else value
