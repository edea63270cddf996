"""The gateway client (api.services.whatsapp_gateway) against fake shards over real HTTP: shard
routing read fresh from the database, the headers, each error mapped to its type, timeouts,
no redirects."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.db.engine import make_engine
from api.services import whatsapp_gateway as wa
from api.settings import Settings
from contracts import wa_send
from tests.api.conftest import INTERNAL, make_tenant
from tests.fakes.fake_gateway import FakeGateway
from tests.fakes.http_server import Reply, ScriptedServer

__all__: list[str] = []


@pytest.fixture
def shards() -> Iterator[tuple[FakeGateway, FakeGateway]]:
    with FakeGateway(1, INTERNAL) as one, FakeGateway(2, INTERNAL) as two:
        yield one, two


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_routes_by_the_shard_in_the_database_read_fresh_each_call(
    db: Session, shards: tuple[FakeGateway, FakeGateway], api_settings: Settings
) -> None:
    one, two = shards
    business = make_tenant(db, 1).business_id
    gateway = wa.Gateway((one.url, two.url), INTERNAL)
    assert gateway.start(db, business).state == "qr"
    assert [r.path for r in one.requests] == [f"/sessions/{business}/start"] and not two.requests
    sent = one.requests[0].headers
    assert sent["X-Internal-Secret"] == INTERNAL and sent["X-WhatsApp-Shard"] == "1"
    # another connection moves the business; the same session (no restart, no cache) follows
    db.commit()
    engine = make_engine(api_settings.database_url, pool_size=1)
    with Session(engine) as other:
        other.execute(text("UPDATE business SET whatsapp_shard = 2 WHERE id = :id"), {"id": business})
        other.commit()
    engine.dispose()
    db.commit()  # end the reading transaction, as each API request does
    assert gateway.status(db, business).shard_id == 2
    assert two.requests[-1].headers["X-WhatsApp-Shard"] == "2" and len(one.requests) == 1


def test_send_and_idempotency(db: Session, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, _ = shards
    business = make_tenant(db, 1).business_id
    one.set_state(business, "connected")
    gateway = wa.Gateway((one.url,), INTERNAL)
    first = gateway.send_text(db, business, "+15557654321", "hi", "key-1")
    again = gateway.send_text(db, business, "+15557654321", "hi", "key-1")
    assert first.message_id == again.message_id and not first.duplicate and again.duplicate
    assert len(one.sent) == 1
    gateway.mark_read(db, business, "+15557654321", ["A", "B"])
    assert one.reads == [{"business": str(business), "version": 1, "chat": "+15557654321", "message_ids": ["A", "B"]}]


@pytest.mark.parametrize(("status", "body", "kind", "check"), [
    (409, {"error": "not_connected", "message": "state qr"}, wa.NotConnected, None),
    (422, {"error": "invalid_number", "message": "no"}, wa.InvalidNumber, None),
    (423, {"error": "reach_out_limited", "until": "2026-12-07T00:00:00Z"}, wa.ReachOutLimited,
     lambda e: e.until_text == "2026-12-07T00:00:00Z" and e.until == datetime(2026, 12, 7, tzinfo=UTC)),
    (503, {"error": "send_failed", "message": "try again"}, wa.GatewayUnavailable, lambda e: e.code == "send_failed"),
    (400, {"error": "bad_request", "message": "schema"}, wa.GatewayError, lambda e: e.code == "bad_request"),
])
def test_errors_map_to_types(db: Session, shards: tuple[FakeGateway, FakeGateway], status: int, body: dict[str, Any],
                             kind: type[wa.GatewayError], check: Any) -> None:
    one, _ = shards
    business = make_tenant(db, 1).business_id
    one.fail_next(status, body)
    with pytest.raises(kind) as info:
        wa.Gateway((one.url,), INTERNAL).send_text(db, business, "+15557654321", "hi", "k")
    assert check is None or check(info.value), vars(info.value)


def test_the_send_errors_are_the_contracts_ones() -> None:
    """The broadcast job tells temporary from permanent by ``contracts.wa_send`` class alone."""
    assert issubclass(wa.NotConnected, wa_send.NotConnected) and issubclass(wa.InvalidNumber, wa_send.InvalidNumber)
    assert issubclass(wa.ReachOutLimited, wa_send.ReachOutLimited) and issubclass(wa.WrongShard, wa_send.WrongShard)
    assert issubclass(wa.GatewayUnavailable, wa_send.GatewayUnavailable)
    assert issubclass(wa.ShardNotConfigured, wa_send.TemporarySendError)
    assert not issubclass(wa.NoQr, wa_send.SendError) and not issubclass(wa.GatewayError, wa_send.SendError)
    limited = wa.ReachOutLimited("x", until="not a time")
    assert (limited.until, limited.until_text, limited.code) == (None, "not a time", "reach_out_limited")


def test_wrong_shard_wrong_secret_and_unconfigured_shard(db: Session, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, two = shards
    business = make_tenant(db, 1).business_id
    swapped = wa.Gateway((two.url, one.url), INTERNAL)  # BAILEYS_SHARD_1_URL points at shard 2
    with pytest.raises(wa.WrongShard) as info:
        swapped.status(db, business)
    assert (info.value.shard_id, info.value.requested) == (2, 1) and "BAILEYS_SHARD_1_URL" in info.value.message
    with pytest.raises(wa.GatewayError) as refused:
        wa.Gateway((one.url,), "wrong").status(db, business)
    assert refused.value.code == "gateway_unauthorized"
    db.execute(text("UPDATE business SET whatsapp_shard = 3 WHERE id = :id"), {"id": business})
    db.commit()
    with pytest.raises(wa.ShardNotConfigured, match="shard 3"):
        wa.Gateway((one.url, two.url), INTERNAL).status(db, business)
    with pytest.raises(wa.BusinessNotFound):
        wa.Gateway((one.url,), INTERNAL).status(db, 999)


def test_no_qr_and_qr(db: Session, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, _ = shards
    business = make_tenant(db, 1).business_id
    gateway = wa.Gateway((one.url,), INTERNAL)
    with pytest.raises(wa.NoQr):
        gateway.qr(db, business)
    gateway.start(db, business)
    assert gateway.qr(db, business)["qr"] == "2@fake-qr"
    assert gateway.logout(db, business).state == "logged_out"


def test_unreachable_slow_redirect_and_nonsense_are_unavailable(db: Session) -> None:
    business = make_tenant(db, 1).business_id
    with pytest.raises(wa.GatewayUnavailable, match="unreachable"):
        wa.Gateway((f"http://127.0.0.1:{free_port()}",), INTERNAL).status(db, business)
    with ScriptedServer(default=Reply(200, {"state": "connected"}, delay_seconds=1.0)) as slow:
        gateway = wa.Gateway((slow.url,), INTERNAL, read_timeout=0.2)
        with pytest.raises(wa.GatewayUnavailable) as info:
            gateway.send_text(db, business, "+15557654321", "hi", "k")
        assert info.value.code == "gateway_timeout"
    with ScriptedServer(default=Reply(302, b"", headers={"Location": "http://example.invalid/"})) as moved:
        with pytest.raises(wa.GatewayError) as redirect:
            wa.Gateway((moved.url,), INTERNAL).send_text(db, business, "+15557654321", "hi", "k")
        assert redirect.value.status == 502 and len(moved.received) == 1  # not followed
    with ScriptedServer(default=Reply(200, {"message_id": 5})) as odd:
        with pytest.raises(wa.GatewayUnavailable) as bad:
            wa.Gateway((odd.url,), INTERNAL).send_text(db, business, "+15557654321", "hi", "k")
        assert bad.value.code == "bad_gateway_answer"
