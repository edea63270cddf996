"""RFC 6455 framing and the HTTP upgrade: pure round trips."""

from __future__ import annotations

import struct

import pytest

from callengine.loadtest.errors import WebSocketProtocolError
from callengine.loadtest.wsframes import (
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    Frame,
    FrameReader,
    accept_key,
    build_upgrade_request,
    client_frame,
    close_payload,
    parse_close_payload,
    parse_response_head,
    text_frame_header,
)


def server_frame(payload: bytes, opcode: int = OP_TEXT, *, fin: bool = True) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = bytes((first, n))
    elif n < 65536:
        head = bytes((first, 126)) + struct.pack("!H", n)
    else:
        head = bytes((first, 127)) + struct.pack("!Q", n)
    return head + payload


def unmask_client_frame(data: bytes) -> tuple[int, bytes]:
    """Decode a client frame the way a server would (including the XOR with the key)."""
    assert data[0] & 0x80, "FIN"
    assert data[1] & 0x80, "client frames must set MASK"
    n = data[1] & 0x7F
    pos = 2
    if n == 126:
        n, pos = struct.unpack("!H", data[2:4])[0], 4
    elif n == 127:
        n, pos = struct.unpack("!Q", data[2:10])[0], 10
    key = data[pos : pos + 4]
    body = data[pos + 4 :]
    assert len(body) == n
    return data[0] & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(body))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 400, 65535, 65536, 70000])
def test_client_frame_round_trips_through_a_masking_decoder(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    frame = client_frame(payload)
    assert unmask_client_frame(frame) == (OP_TEXT, payload)
    assert frame.endswith(payload), "a zero key makes masked bytes equal plain bytes"


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_text_frame_header_matches_client_frame(size: int) -> None:
    payload = b"x" * size
    assert text_frame_header(size) + payload == client_frame(payload)


def test_reader_parses_frames_split_at_every_byte() -> None:
    stream = server_frame(b'{"event":"media"}') + server_frame(b"p", OP_PING) + server_frame(b"y" * 300)
    reader = FrameReader()
    frames: list[Frame] = []
    for i in range(len(stream)):
        frames.extend(reader.feed(stream[i : i + 1]))
    assert frames == [Frame(OP_TEXT, b'{"event":"media"}'), Frame(OP_PING, b"p"), Frame(OP_TEXT, b"y" * 300)]


def test_reader_reassembles_fragments_around_a_control_frame() -> None:
    reader = FrameReader()
    data = server_frame(b"hel", OP_TEXT, fin=False) + server_frame(b"", OP_PING) + server_frame(b"lo", OP_CONT)
    assert reader.feed(data) == [Frame(OP_PING, b""), Frame(OP_TEXT, b"hello")]


def test_reader_rejects_masked_server_frames() -> None:
    with pytest.raises(WebSocketProtocolError):
        FrameReader().feed(client_frame(b"hi"))


def test_reader_rejects_stray_continuation() -> None:
    with pytest.raises(WebSocketProtocolError):
        FrameReader().feed(server_frame(b"x", OP_CONT))


def test_close_payload_round_trip() -> None:
    assert parse_close_payload(close_payload(1011, "brain crashed")) == (1011, "brain crashed")
    assert parse_close_payload(b"") == (None, "")
    assert unmask_client_frame(client_frame(close_payload(1000), OP_CLOSE)) == (OP_CLOSE, b"\x03\xe8")


def test_accept_key_matches_rfc_example() -> None:
    # RFC 6455 §1.3 worked example.
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_upgrade_request_offers_twilio_subprotocol_and_signature() -> None:
    req = build_upgrade_request("127.0.0.1:5050", "/ws/twilio", "k==", extra_headers={"X-Twilio-Signature": "sig"})
    text = req.decode()
    assert text.startswith("GET /ws/twilio HTTP/1.1\r\nHost: 127.0.0.1:5050\r\n")
    assert "Sec-WebSocket-Protocol: audio.twilio.com\r\n" in text
    assert "X-Twilio-Signature: sig\r\n" in text
    assert text.endswith("\r\n\r\n")


def test_parse_response_head_lowercases_headers() -> None:
    resp = parse_response_head(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0")
    assert (resp.status, resp.reason, resp.headers["retry-after"]) == (503, "Service Unavailable", "1")
    with pytest.raises(WebSocketProtocolError):
        parse_response_head(b"garbage")
