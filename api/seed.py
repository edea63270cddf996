"""``python -m api.seed``: create (idempotently) the demo business, its owner and a system admin,
then print their logins.

Passwords come from SEED_OWNER_PASSWORD / SEED_ADMIN_PASSWORD when set; otherwise random ones
are generated on first creation and printed once (a re-run keeps existing passwords and says so).
The database is DATABASE_URL (default ``sqlite:///var/prosaas.db``), which must be migrated
first (``python -m api.migrate``); these environment variables are read by ``api/settings.py``.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.engine import make_engine, make_session_factory, session_scope
from api.db.models import Business, Role, User
from api.errors import SettingsError
from api.migrate import current_revision, head_revision
from api.phones import normalize_e164
from api.security import hash_password
from api.settings import Settings

__all__ = ["DEMO_PHONE", "SeedLogin", "main", "seed"]

DEMO_PHONE = "+15550100000"
DEMO_BUSINESS = "Demo Business"
# As many calls as the README's local load test places at once (scripts/loadtest.sh --calls 10).
DEMO_MAX_CALLS = 10
OWNER_EMAIL = "owner@demo.prosaas.local"
ADMIN_EMAIL = "admin@prosaas.local"


@dataclass(frozen=True)
class SeedLogin:
    email: str
    role: str
    password: str | None  # None: the user existed already and keeps its password
    business_id: int | None


def _user(session: Session, email: str, role: Role, business_id: int | None, password: str | None) -> SeedLogin:
    existing = session.scalar(select(User).where(User.email == email))
    if existing is not None:
        return SeedLogin(email, existing.role, None, existing.business_id)
    chosen = password or secrets.token_urlsafe(12)
    session.add(User(email=email, name=role.value.replace("_", " ").title(), role=role, business_id=business_id,
                     password_hash=hash_password(chosen)))
    session.flush()
    return SeedLogin(email, role.value, chosen, business_id)


def seed(
    session: Session, *, owner_password: str | None = None, admin_password: str | None = None, phone: str = DEMO_PHONE
) -> list[SeedLogin]:
    """Create what is missing; never changes existing rows.

    Raises:
        ValueError: ``phone`` is not an E.164 number (checked like every number that enters).
    """
    business_phone = normalize_e164(phone)
    if business_phone is None:
        raise ValueError(f"the demo business phone {phone!r} is not an E.164 number")
    business = session.scalar(select(Business).where(Business.phone_e164 == business_phone))
    if business is None:
        business = Business(
            name=DEMO_BUSINESS,
            phone_e164=business_phone,
            greeting="Thanks for calling Demo Business. How can I help you today?",
            brain="receptionist",
            brain_settings={},
            max_concurrent_calls=DEMO_MAX_CALLS,
        )
        session.add(business)
        session.flush()
    return [
        _user(session, OWNER_EMAIL, Role.OWNER, business.id, owner_password),
        _user(session, ADMIN_EMAIL, Role.SYSTEM_ADMIN, None, admin_password),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m api.seed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"api.seed: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        if current_revision(engine) != head_revision():
            print("api.seed: the database is not migrated; run python -m api.migrate first", file=sys.stderr)
            return 1
        with session_scope(make_session_factory(engine)) as session:
            logins = seed(
                session,
                owner_password=settings.seed_owner_password.reveal() or None,
                admin_password=settings.seed_admin_password.reveal() or None,
            )
    finally:
        engine.dispose()
    print(f"demo business: {DEMO_BUSINESS} ({DEMO_PHONE})")
    for login in logins:
        shown = login.password if login.password is not None else "(exists; password unchanged)"
        print(f"  {login.role:<13} {login.email:<28} password: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
