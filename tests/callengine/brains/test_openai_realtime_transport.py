"""The vendor socket: TLS with certificate checks, headers, and no socket left behind."""

from __future__ import annotations

import functools
import ssl

import pytest
import trio
import trustme
from trio_websocket import WebSocketRequest, serve_websocket

from callengine.brains.openai_realtime.errors import ErrorCategory, VendorUnavailable
from callengine.brains.openai_realtime.transport import open_vendor_websocket
from tests.conftest import free_port


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


async def echo_server(nursery: trio.Nursery, ca: trustme.CA, seen: list[dict[str, str]]) -> int:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)

    async def handler(request: WebSocketRequest) -> None:
        seen.append({k.decode(): v.decode() for k, v in request.headers} | {"path": request.path})
        ws = await request.accept()
        await ws.send_message(await ws.get_message())

    server = await nursery.start(serve_websocket, handler, "127.0.0.1", 0, server_context)
    return int(server.port)


async def test_wss_checks_the_certificate_and_sends_the_headers(nursery, ca):
    seen: list[dict[str, str]] = []
    port = await echo_server(nursery, ca, seen)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    async with open_vendor_websocket(
        f"wss://localhost:{port}/v1/realtime?model=m",
        [(b"authorization", b"Bearer k")],
        timeout=5,
        message_queue_size=4,
        max_message_size=1024,
        ssl_context=client_context,
    ) as ws:
        await ws.send_message("ping")
        assert await ws.get_message() == "ping"
    assert seen[0]["authorization"] == "Bearer k"
    assert seen[0]["path"] == "/v1/realtime?model=m"


async def test_wss_refuses_an_untrusted_certificate(nursery, ca):
    port = await echo_server(nursery, ca, [])
    with pytest.raises(VendorUnavailable) as info:  # the system store does not know our CA
        async with open_vendor_websocket(
            f"wss://localhost:{port}/v1/realtime", [], timeout=5, message_queue_size=4, max_message_size=1024
        ):
            pass  # pragma: no cover
    assert info.value.category is ErrorCategory.NETWORK
    assert "SSLCertVerificationError" in str(info.value)


async def test_nothing_listening_is_a_retryable_network_failure():
    with pytest.raises(VendorUnavailable) as info:
        async with open_vendor_websocket(
            f"ws://127.0.0.1:{free_port()}/v1/realtime", [], timeout=5, message_queue_size=4, max_message_size=1024
        ):
            pass  # pragma: no cover
    assert info.value.category is ErrorCategory.NETWORK
    assert info.value.retryable


async def test_a_silent_server_times_out(nursery):
    async def mute(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()  # accepts TCP, never answers the handshake

    listeners = await nursery.start(functools.partial(trio.serve_tcp, mute, 0, host="127.0.0.1"))
    port = listeners[0].socket.getsockname()[1]
    with pytest.raises(VendorUnavailable) as info:
        async with open_vendor_websocket(
            f"ws://127.0.0.1:{port}/v1/realtime", [], timeout=0.3, message_queue_size=4, max_message_size=1024
        ):
            pass  # pragma: no cover
    assert info.value.category is ErrorCategory.TIMEOUT


async def test_only_websocket_urls_are_accepted():
    with pytest.raises(ValueError):
        async with open_vendor_websocket(
            "https://api.openai.com/v1/realtime", [], timeout=1, message_queue_size=1, max_message_size=1
        ):
            pass  # pragma: no cover
