"""The call setup the voice webhook stores at ``calls:setup:{call_sid}`` (TTL 600 s).

The calls service's brains read it when the stream starts (the receptionist brain takes its
greeting, language and menu from here), so it is a contract. JSON object, version 1::

    {
      "version": 1,
      "call_sid": "CA…",                  # Twilio's CallSid
      "business_id": "42",                # string, as in the stream's <Parameter>
      "business_name": "Demo Dental",
      "direction": "inbound",             # inbound | outbound
      "from": "+15551230000",             # caller (E.164 when Twilio gives one)
      "to": "+15550100000",               # the business number that was dialled
      "greeting": "Hello, you reached …", # empty → the brain's default greeting
      "brain": "receptionist",            # receptionist | echo | openai_realtime
      "brain_settings": {…},              # per-business settings of that brain (free-form)
      "language": "en",                   # BCP-47 primary tag
      "timezone": "UTC",                  # IANA zone, for "we are open until …"
      "menu": [{"digit": "1", "label": "…", "intent": "…"}],   # from brain_settings.menu
      "prompts": {"name": "…", "reason": "…", …},              # from brain_settings.prompts
      "lead": {"id": 7, "name": "Ann", "status": "new"} | null, # known caller, if any
      "created_at_ms": 1764200000000      # when the webhook answered (epoch ms)
    }

Readers must ignore unknown keys; writers bump ``version`` only for incompatible changes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SETUP_TTL_SECONDS", "SETUP_VERSION", "build_setup"]

SETUP_VERSION = 1
SETUP_TTL_SECONDS = 600  # DESIGN.md §2: long enough for Twilio to open the stream, then gone


def build_setup(
    *,
    call_sid: str,
    business: dict[str, Any],
    direction: str,
    caller: str,
    called: str,
    lead: dict[str, Any] | None,
    created_at_ms: int,
) -> dict[str, Any]:
    """Assemble the setup (pure). ``business`` is the row as a dict (see services.telephony)."""
    settings = business.get("brain_settings") or {}
    menu = settings.get("menu") if isinstance(settings.get("menu"), list) else []
    prompts = settings.get("prompts") if isinstance(settings.get("prompts"), dict) else {}
    return {
        "version": SETUP_VERSION,
        "call_sid": call_sid,
        "business_id": str(business["id"]),
        "business_name": business["name"],
        "direction": direction,
        "from": caller,
        "to": called,
        "greeting": business["greeting"],
        "brain": business["brain"],
        "brain_settings": settings,
        "language": business["language"],
        "timezone": business["timezone"],
        "menu": menu,
        "prompts": prompts,
        "lead": lead,
        "created_at_ms": created_at_ms,
    }
