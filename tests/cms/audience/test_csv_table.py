"""An audience report's plays as CSV (cms.audience.csv_table)."""

from __future__ import annotations

import csv
import io

from cms.audience.csv_table import COLUMNS, plays_csv


def play(content, impressions, attributes, ended="2025-01-01T12:01:00Z"):
    return {
        "content": content,
        "started": "2025-01-01T12:00:00Z",
        "ended": ended,
        "duration_s": 60.0,
        "impressions": impressions,
        "mean_dwell_s": 1.5 if impressions else None,
        "max_dwell_s": 2.0 if impressions else None,
        "attributes": attributes,
    }


def test_one_row_per_play_and_a_column_per_model_and_label():
    text = plays_csv(
        [play("a", 2, {"colour": {"red": 2}}), play("b", 1, {"colour": {"blue": 1}}, ended=None)]
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [*COLUMNS, "colour:blue", "colour:red"]
    assert rows[1] == [
        "a",
        "2025-01-01T12:00:00Z",
        "2025-01-01T12:01:00Z",
        "60.0",
        "2",
        "1.5",
        "2.0",
        "0",
        "2",
    ]
    assert rows[2][:3] == ["b", "2025-01-01T12:00:00Z", ""]
    assert rows[2][-2:] == ["1", "0"]


def test_text_a_spreadsheet_would_run_is_quoted():
    rows = list(csv.reader(io.StringIO(plays_csv([play("=cmd()", 0, {})]))))
    assert rows[1][0] == "'=cmd()"
    assert rows[1][5:7] == ["", ""]
