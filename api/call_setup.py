"""Building the call setup the voice webhook stores at ``calls:setup:{call_sid}``.

The shape, its version and the compatibility rules are the contract's
(``contracts.call_setup``); this module only maps a business row and the webhook's parameters
onto it. The menu and prompts come from the business's ``brain_settings`` and are read by the
contract's own reader, so what is stored is exactly what the calls service understands (an
unusable menu entry is dropped here and reported, not carried to every call).
"""

from __future__ import annotations

import logging
from typing import Any

from contracts.call_setup import (
    SETUP_TTL_SECONDS,
    SETUP_VERSION,
    CallSetup,
    Direction,
    LeadRef,
    read_menu,
)

__all__ = ["SETUP_TTL_SECONDS", "SETUP_VERSION", "build_setup"]

log = logging.getLogger(__name__)


def build_setup(
    *,
    call_sid: str,
    business: dict[str, Any],
    direction: str,
    caller: str,
    called: str,
    lead: dict[str, Any] | None,
    created_at_ms: int,
    test: bool = False,
) -> CallSetup:
    """Assemble the setup (pure but for a log line on an unusable menu entry).

    ``business`` is the row as a dict (see ``api.services.telephony.business_for_number``);
    ``lead`` likewise (``lead_for_caller``).
    """
    settings = business.get("brain_settings") or {}
    problems: list[str] = []
    menu = read_menu(settings.get("menu"), problems)
    if problems:
        log.warning("business %s: brain_settings.menu: %s", business["id"], "; ".join(problems))
    raw_prompts = settings.get("prompts")
    prompts = {str(k): v for k, v in raw_prompts.items() if isinstance(v, str)} if isinstance(raw_prompts, dict) else {}
    return CallSetup(
        call_sid=call_sid,
        business_id=str(business["id"]),
        business_name=business["name"],
        direction=Direction(direction),
        caller=caller,
        called=called,
        greeting=business["greeting"] or "",
        brain=business["brain"] or "",
        brain_settings=dict(settings),
        language=business["language"],
        timezone=business["timezone"],
        menu=menu,
        prompts=prompts,
        lead=LeadRef(int(lead["id"]), str(lead["name"] or ""), str(lead["status"] or "")) if lead else None,
        created_at_ms=created_at_ms,
        test=test,
    )
