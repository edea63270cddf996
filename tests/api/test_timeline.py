"""``GET /api/leads/{id}/timeline`` on SQLite and Postgres: the lead's calls and WhatsApp/email
messages merged newest first, paged over the merged sequence, and only within the caller's
business (another business's lead is 404, and its rows never appear)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.db.models import Call, Lead, Message
from api.responses import LeadTimeline
from tests.api.conftest import login, make_admin, make_tenant

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def lead_of(db: Any, business_id: int) -> int:
    found = db.scalar(select(Lead.id).where(Lead.business_id == business_id))
    assert found is not None
    return int(found)


def seed(db: Any, business_id: int, lead_id: int, tag: str) -> None:
    db.add_all([
        Call(call_sid=f"CA-{tag}-1", business_id=business_id, lead_id=lead_id, status="completed",
             started_at=T0 + timedelta(minutes=1), created_at=T0, summary=f"{tag} asked about prices",
             duration_seconds=42.5, recording_path="/rec/x.wav"),
        Call(call_sid=f"CA-{tag}-2", business_id=business_id, lead_id=lead_id, status="rejected",
             created_at=T0 + timedelta(minutes=30)),  # never started: placed at its creation
        Message(business_id=business_id, lead_id=lead_id, channel="whatsapp", direction="inbound",
                external_id=f"wa-{tag}", peer="+1", body=f"{tag} hello " + "x" * 300, created_at=T0 + timedelta(minutes=10)),
        Message(business_id=business_id, lead_id=lead_id, channel="email", direction="outbound",
                external_id=f"em-{tag}", peer="a@b.test", subject=f"{tag} quote", body="...",
                created_at=T0 + timedelta(minutes=20), status="sent"),
    ])
    db.commit()


async def test_timeline_merges_calls_and_messages_newest_first(client: Any, db: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    lead_a, lead_b = lead_of(db, a.business_id), lead_of(db, b.business_id)
    seed(db, a.business_id, lead_a, "A")
    seed(db, b.business_id, lead_b, "B")
    await login(client, a.agent_email)
    resp = await client.get(f"/api/leads/{lead_a}/timeline")
    body = await resp.get_json()
    assert resp.status_code == 200, body
    LeadTimeline.model_validate(body)
    assert body["lead_id"] == lead_a and body["total"] == 4 and body["pages"] == 1
    assert [(i["kind"], i["channel"]) for i in body["items"]] == [
        ("call", "call"), ("message", "email"), ("message", "whatsapp"), ("call", "call")]
    rejected, email, whatsapp, answered = body["items"]
    assert rejected["status"] == "rejected" and rejected["at"] == (T0 + timedelta(minutes=30)).isoformat()
    assert email["summary"] == "A quote" and email["direction"] == "outbound" and email["duration_seconds"] is None
    assert whatsapp["summary"].startswith("A hello") and len(whatsapp["summary"]) == 200
    assert answered["at"] == (T0 + timedelta(minutes=1)).isoformat()  # its start, not its creation
    assert answered["duration_seconds"] == 42.5 and answered["has_recording"] is True
    assert "B" not in str(body)  # nothing of business 2


async def test_timeline_pages_over_the_merged_items(client: Any, db: Any) -> None:
    a = make_tenant(db, 1)
    lead = lead_of(db, a.business_id)
    seed(db, a.business_id, lead, "A")
    await login(client, a.owner_email)
    whole = (await (await client.get(f"/api/leads/{lead}/timeline")).get_json())["items"]
    pages = [(await (await client.get(f"/api/leads/{lead}/timeline?per_page=3&page={n}")).get_json())
             for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [3, 1, 0] and pages[0]["pages"] == 2
    assert pages[0]["items"] + pages[1]["items"] == whole
    too_deep = await client.get(f"/api/leads/{lead}/timeline?page=51")
    assert too_deep.status_code == 422


async def test_another_business_lead_is_404_for_a_tenant_and_visible_to_a_system_admin(client: Any, db: Any) -> None:
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    lead_b = lead_of(db, b.business_id)
    seed(db, b.business_id, lead_b, "B")
    await login(client, a.owner_email)
    resp = await client.get(f"/api/leads/{lead_b}/timeline")
    assert resp.status_code == 404 and (await resp.get_json())["error"]["code"] == "lead_not_found"
    named = await client.get(f"/api/leads/{lead_b}/timeline?business_id={b.business_id}")
    assert named.status_code == 404
    await client.post("/api/auth/logout", headers=await login(client, a.owner_email))
    await login(client, make_admin(db))
    admin = await client.get(f"/api/leads/{lead_b}/timeline?business_id={b.business_id}")
    assert admin.status_code == 200 and (await admin.get_json())["total"] == 4
    wrong_scope = await client.get(f"/api/leads/{lead_b}/timeline?business_id={a.business_id}")
    assert wrong_scope.status_code == 404


async def test_a_message_of_another_business_linked_to_the_lead_id_never_shows(client: Any, db: Any) -> None:
    """Rows are filtered by business too, not only through the lead."""
    a, b = make_tenant(db, 1), make_tenant(db, 2)
    lead_a = lead_of(db, a.business_id)
    db.add(Message(business_id=b.business_id, lead_id=lead_a, channel="whatsapp", direction="inbound",
                   external_id="stray", peer="+1", body="stray row", created_at=T0))
    db.add(Call(call_sid="CA-stray", business_id=b.business_id, lead_id=lead_a, status="completed", created_at=T0))
    db.commit()
    await login(client, a.owner_email)
    body = await (await client.get(f"/api/leads/{lead_a}/timeline")).get_json()
    assert body["items"] == [] and body["total"] == 0
