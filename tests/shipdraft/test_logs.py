"""Log lines are JSON objects with a UTC timestamp, the level, the logger and the structured extras."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from shipdraft.logs import JsonFormatter


def test_a_log_line_is_json_with_time_level_logger_and_extras() -> None:
    record = logging.LogRecord("shipdraft.runner", logging.WARNING, __file__, 1, "message %s failed", (7,), None)
    record.message_pk = 7
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["msg"], line["message_pk"]) == (
        "warning", "shipdraft.runner", "message 7 failed", 7)
    stamp = datetime.fromisoformat(line["ts"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
    assert abs(stamp.timestamp() - record.created) < 0.001
