"""The exit status and the one-line verdict: refused or failed calls fail the run, and say why.

A tiny threaded HTTP server answers every request with a fixed status, standing in for a calls
service that checks signatures (403), one that is full or draining (503), or an API webhook
that checks signatures; ``main`` runs the real harness against it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from callengine.loadtest.__main__ import build_parser, main
from callengine.loadtest.report import verdict
from callengine.loadtest.stats import METRIC_KEYS, METRIC_MEANINGS

__all__: list[str] = []


@contextmanager
def _answering(status_line: str, *headers: str) -> Iterator[int]:
    """Serve ``status_line`` (+ headers, empty body) to every connection; yield the port."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(4096)
                    if not data:
                        break
                    buf += data
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = next(
                    (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0
                )
                while len(rest) < length:
                    rest += conn.recv(4096)
                extra = "".join(f"{h}\r\n" for h in headers)
                conn.sendall(f"HTTP/1.1 {status_line}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n".encode())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join()
        listener.close()


BASE = ["--calls", "3", "--scenario", "silence", "--duration", "0.2", "--ramp", "0", "--quiet"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return status, err[-1] if err else ""


def test_unsigned_calls_refused_with_403_exit_1_and_say_how_to_sign(capsys: pytest.CaptureFixture[str]) -> None:
    with _answering("403 Forbidden") as port:
        status, line = _run([*BASE, "--url", f"ws://127.0.0.1:{port}/ws/twilio"], capsys)
    assert status == 1
    assert line.startswith("loadtest: FAILED: 3 of 3 calls refused with HTTP 403: the server checks Twilio signatures")
    assert "--auth-token TOKEN" in line and "var/dev-secrets" in line
    assert "--twiml-url http://127.0.0.1:5000/twilio/voice" in line


def test_signed_calls_refused_with_403_blame_the_token_or_url(capsys: pytest.CaptureFixture[str]) -> None:
    with _answering("403 Forbidden") as port:
        status, line = _run([*BASE, "--url", f"ws://127.0.0.1:{port}/ws/twilio", "--auth-token", "wrong"], capsys)
    assert status == 1
    assert "3 of 3 calls refused with HTTP 403" in line
    assert "did not accept the X-Twilio-Signature" in line and "--public-url" in line


def test_503_says_full_or_draining(capsys: pytest.CaptureFixture[str]) -> None:
    with _answering("503 Service Unavailable", "Retry-After: 2") as port:
        status, line = _run([*BASE, "--url", f"ws://127.0.0.1:{port}/ws/twilio"], capsys)
    assert status == 1
    assert "3 of 3 calls refused with HTTP 503" in line
    assert "full" in line and "draining" in line and "Retry-After 2 s" in line


def test_webhook_403_is_a_refusal_that_names_the_api(capsys: pytest.CaptureFixture[str]) -> None:
    with _answering("403 Forbidden") as port:
        status, line = _run([*BASE, "--twiml-url", f"http://127.0.0.1:{port}/twilio/voice"], capsys)
    assert status == 1
    assert "3 of 3 calls refused with HTTP 403 at the webhook" in line
    assert "the API checks Twilio signatures on the webhook" in line and "--auth-token TOKEN" in line


def test_unreachable_server_fails_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    status, line = _run([*BASE, "--url", f"ws://127.0.0.1:{port}/ws/twilio"], capsys)
    assert status == 1
    assert line.startswith("loadtest: FAILED: 3 of 3 calls failed (most often: ")


def test_a_broken_slo_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    status, line = _run(["--calls", "0", "--quiet", "--slo", "connected=1"], capsys)
    assert status == 1
    assert line == "loadtest: FAILED: SLO violated: connected=0 (want >=1)"


def test_help_lists_every_slo_key_with_its_meaning() -> None:
    text = build_parser().format_help()
    for key in METRIC_KEYS:
        assert f"  {key} " in text and METRIC_MEANINGS[key] in text
    assert "Exit status" in text


def _results(rows: list[dict[str, Any]], *, failures: list[dict[str, Any]] | None = None, **config: Any) -> dict[str, Any]:
    failed = [r for r in rows if r["outcome"] == "failed"]
    return {
        "config": {"signed": True, "url": None, "twiml_url": None, **config},
        "calls": {
            "attempted": len(rows), "failed": len(failed), "retry_after": [],
            "failed_by_reason": {"server closed the stream early 1008 (closed by server)": len(failed)} if failed else {},
            "failures": failures or [],
        },
        "per_call": rows,
        "slo": {"ok": True, "checks": [], "violated": []},
    }  # fmt: skip


def _refused(status: int | None, reason: str) -> dict[str, Any]:
    return {"outcome": "refused", "refused_status": status, "refused_reason": reason}


def test_a_stream_url_that_is_not_the_calls_service_asks_for_url() -> None:
    line = verdict(_results([_refused(404, "HTTP 404")] * 2, twiml_url="http://127.0.0.1:5000/twilio/voice"))
    assert line is not None and line.startswith("2 of 2 calls refused with HTTP 404: the TwiML's <Stream url>")
    assert "pass --url ws://HOST:CALLS_PORT/ws/twilio (make run: ws://127.0.0.1:5050/ws/twilio)" in line


def test_a_rejected_call_asks_about_the_number() -> None:
    line = verdict(_results([_refused(None, "<Reject reason=rejected>")], twiml_url="http://x/twilio/voice"))
    assert line == (
        "1 of 1 calls refused by webhook: the webhook answered <Reject reason=rejected> — is --to the number of "
        "an active business? (make run seeds +15550100000); against make run, scripts/loadtest.sh does all this for you"
    )


def test_a_1008_close_names_the_per_call_token() -> None:
    rows = [{"outcome": "failed", "refused_status": None, "refused_reason": None}]
    line = verdict(_results(rows, failures=[{"close_code": 1008}], url="ws://127.0.0.1:5050/ws/twilio"))
    assert line is not None and line.startswith("1 of 1 calls failed (most often: server closed the stream early 1008")
    assert "--token-secret" in line


def test_a_clean_run_has_no_verdict() -> None:
    assert verdict(_results([{"outcome": "completed"}, {"outcome": "hung_up"}])) is None
