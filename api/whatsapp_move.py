"""``python -m api.whatsapp_move <business_id> <shard>``: move a business's WhatsApp session to
another gateway shard.

Steps (each printed; the command stops at the first refusal, leaving the business where it was):

1. The old shard must not hold the session any more. It is asked to stop it
   (``POST /sessions/{id}/stop``); a gateway without that route, or an unreachable one, is not
   trusted: a running old shard whose session is still ``starting``/``qr``/``connected``/``failed``
   refuses the move (two processes on one WhatsApp login get each other logged out — error 440);
   an unreachable one needs ``--old-shard-stopped``, the operator's word that it is down
   (``docker compose stop baileys-N``).
2. With ``--old-volume`` and ``--new-volume`` (the two shards' BAILEYS_DATA_DIR, both mounted
   here), the auth state ``auth/<business_id>/`` is copied to the new volume (into a temporary
   name, checked file by file, then renamed) and the old copy is renamed to
   ``auth/.moved-<business_id>-<time>`` so the old shard never restores it. Without the volumes
   (or without creds there) nothing is copied and a QR rescan is needed.
3. ``business.whatsapp_shard`` is set to the new shard (the API reads it on every request).
4. The new shard is asked to start the session: ``connected``/``starting`` with the copied auth
   state, ``qr`` when a rescan is needed (an admin scans it in the app).

Environment variables read: DATABASE_URL, BAILEYS_NUM_SHARDS, BAILEYS_SHARD_{N}_URL and INTERNAL_SECRET
(api/settings.py). Exit status: 0 moved, 1 failed, 2 refused (nothing changed).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update

from api.db.engine import make_engine, make_session_factory, session_scope
from api.db.models import Business
from api.errors import SettingsError
from api.services import whatsapp_gateway as wa
from api.settings import Settings
from contracts.wa_events import ContractError, read_session

__all__ = ["MoveRefused", "MoveResult", "copy_auth_state", "main", "move"]

HELD = ("starting", "qr", "connected", "failed")  # states in which a running shard may reconnect


class MoveRefused(Exception):
    """The move cannot be done safely; nothing was changed."""


@dataclass
class MoveResult:
    old_shard: int
    new_shard: int
    auth_copied: bool = False
    state: str | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def rescan_needed(self) -> bool:
        return self.state == "qr" or (not self.auth_copied and self.state not in ("connected", "starting"))


def compose_service(shard: int) -> str:
    """The compose service of a shard: shard 1 is ``baileys``, the others ``baileys-N``."""
    return "baileys" if shard == 1 else f"baileys-{shard}"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_auth_state(business_id: int, old_volume: Path, new_volume: Path) -> bool:
    """Copy ``auth/<id>/`` from the old shard's volume to the new one's and retire the old copy.

    Returns:
        False when the old volume has no creds for the business (nothing to copy).

    Raises:
        MoveRefused: the new volume already has auth state for the business, or the copy differs.
    """
    source = old_volume / "auth" / str(business_id)
    if not (source / "creds.json").is_file():
        return False
    target = new_volume / "auth" / str(business_id)
    if target.exists():
        raise MoveRefused(f"{target} already exists: remove it if it is stale, then run the move again")
    staging = new_volume / "auth" / f".incoming-{business_id}-{int(time.time())}"
    staging.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, staging)
    for original in (p for p in source.rglob("*") if p.is_file()):
        copy = staging / original.relative_to(source)
        if not copy.is_file() or _digest(copy) != _digest(original):
            shutil.rmtree(staging, ignore_errors=True)
            raise MoveRefused(f"the copy of {original} differs from the original; nothing was moved")
    staging.rename(target)
    source.rename(source.parent / f".moved-{business_id}-{int(time.time())}")
    return True


def _old_shard_released(gateway: wa.Gateway, business_id: int, old: int, *, confirmed_stopped: bool) -> str:
    """Make sure the old shard does not hold the session; returns what was found.

    Raises:
        MoveRefused: it still holds it (or may, and the operator did not confirm it is down).
    """
    try:
        gateway.call_shard(old, business_id, "POST", "/stop", None, what="session")
        return f"shard {old} stopped the session"
    except wa.GatewayUnavailable as exc:
        if confirmed_stopped:
            return f"shard {old} is unreachable ({exc.message}); the operator confirmed it is stopped"
        raise MoveRefused(
            f"shard {old} cannot be asked ({exc.message}). If it is down, run again with --old-shard-stopped"
        ) from exc
    except wa.GatewayError as exc:
        if exc.http_status not in (404, 405):  # anything but "no such route"
            raise MoveRefused(f"shard {old} refused to stop the session: {exc.message}") from exc
    # A gateway without a stop route: look at the session instead.
    try:
        state = read_session(gateway.call_shard(old, business_id, "GET", "", None, what="session")).state
    except (wa.GatewayError, ContractError) as exc:
        raise MoveRefused(f"shard {old} has no stop route and its session cannot be read: {exc}") from exc
    if state in HELD:
        raise MoveRefused(
            f"shard {old} holds the session (state {state}) and has no stop route: stop that shard "
            f"(docker compose stop {compose_service(old)}) and run again with --old-shard-stopped"
        )
    return f"shard {old} reports the session {state}"


def move(
    settings: Settings, business_id: int, new: int, *, old_volume: Path | None = None, new_volume: Path | None = None,
    old_shard_stopped: bool = False, gateway: wa.Gateway | None = None,
) -> MoveResult:
    """Do the move (see the module's docstring).

    Raises:
        MoveRefused: nothing was changed.
        wa.GatewayError: starting on the new shard failed after the business was moved.
    """
    gateway = gateway or wa.Gateway.from_settings(settings)
    engine = make_engine(settings.database_url, pool_size=1)
    sessions = make_session_factory(engine)
    try:
        with session_scope(sessions) as session:
            try:
                old = wa.shard_of(session, business_id)
            except wa.BusinessNotFound as exc:
                raise MoveRefused(str(exc)) from exc
        if old == new:
            raise MoveRefused(f"business {business_id} is already on shard {new}")
        try:
            gateway.url_of(new)
        except wa.ShardNotConfigured as exc:
            raise MoveRefused(f"shard {new} is not configured (BAILEYS_NUM_SHARDS, BAILEYS_SHARD_{new}_URL)") from exc
        result = MoveResult(old, new)
        if (old_volume is None) != (new_volume is None):
            raise MoveRefused("give both --old-volume and --new-volume, or neither")
        if old_volume is not None and new_volume is not None:
            for volume in (old_volume, new_volume):
                if not volume.is_dir():
                    raise MoveRefused(f"{volume} is not a directory (is the shard's volume mounted here?)")
        result.steps.append(_old_shard_released(gateway, business_id, old, confirmed_stopped=old_shard_stopped))
        if old_volume is not None and new_volume is not None:
            result.auth_copied = copy_auth_state(business_id, old_volume, new_volume)
            result.steps.append("auth state copied to the new volume; the old copy retired" if result.auth_copied
                                else f"no auth state for business {business_id} on {old_volume}: a QR rescan is needed")
        else:
            result.steps.append("no volumes given: auth state not copied, a QR rescan is needed")
        with session_scope(sessions) as session:
            session.execute(update(Business).where(Business.id == business_id).values(whatsapp_shard=new))
        result.steps.append(f"business {business_id} now on shard {new} (was {old})")
        info = gateway.start(None, business_id, shard=new)
        result.state = info.state
        result.steps.append(f"shard {new} started the session: state {info.state}"
                            + (" — scan the QR code in the app (WhatsApp → Connect)" if info.state == "qr" else ""))
        return result
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.whatsapp_move", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("business_id", type=int)
    parser.add_argument("shard", type=int, help="the shard to move to (1..BAILEYS_NUM_SHARDS)")
    parser.add_argument("--old-volume", type=Path, help="the old shard's BAILEYS_DATA_DIR, mounted here")
    parser.add_argument("--new-volume", type=Path, help="the new shard's BAILEYS_DATA_DIR, mounted here")
    parser.add_argument("--old-shard-stopped", action="store_true",
                        help="the old shard is down (its gateway process is stopped): do not ask it")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"api.whatsapp_move: {exc}", file=sys.stderr)
        return 2
    try:
        result = move(settings, args.business_id, args.shard, old_volume=args.old_volume, new_volume=args.new_volume,
                      old_shard_stopped=args.old_shard_stopped)
    except MoveRefused as exc:
        print(f"api.whatsapp_move: refused, nothing changed: {exc}", file=sys.stderr)
        return 2
    except wa.GatewayError as exc:
        print(f"api.whatsapp_move: the business was moved but shard {args.shard} did not start the session: "
              f"{exc.message}. Start it from the app (WhatsApp → Connect) once the shard is up.", file=sys.stderr)
        return 1
    for step in result.steps:
        print(f"  {step}")
    print("moved" + ("; a QR rescan is needed" if result.rescan_needed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
