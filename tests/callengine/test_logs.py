from __future__ import annotations

import json
import logging

from callengine.logs import CallLogger, JsonFormatter, ReadableFormatter


def record_of(logger: CallLogger, caplog) -> logging.LogRecord:
    logger.info("call ended reason=%s", "stopped")
    return caplog.records[-1]


def test_call_ids_are_bound_once_and_carried_by_every_line(caplog):
    caplog.set_level("INFO")
    log = CallLogger(logging.getLogger("callengine.test"))
    log.bind(call_sid="CA1", stream_sid="MZ1")
    rec = record_of(log, caplog)
    doc = json.loads(JsonFormatter().format(rec))
    assert doc["msg"] == "call ended reason=stopped"
    assert (doc["call_sid"], doc["stream_sid"], doc["level"]) == ("CA1", "MZ1", "info")
    line = ReadableFormatter().format(rec)
    assert line.endswith("call ended reason=stopped [call_sid=CA1 stream_sid=MZ1]")
