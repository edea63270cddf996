"""``python -m api.whatsapp_move`` against two fake shards, on SQLite and Postgres: refused while
the old shard may still hold the session, the auth state copied and the old copy retired, the
business moved and started on the new shard; a QR rescan reported when there is no auth state."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.models import Business
from api.settings import Settings
from api.whatsapp_move import MoveRefused, move
from tests.api.conftest import INTERNAL, make_tenant
from tests.conftest import free_port
from tests.fakes.fake_gateway import FakeGateway

__all__: list[str] = []

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shards(tmp_path: Path) -> Iterator[tuple[FakeGateway, FakeGateway]]:
    with FakeGateway(1, INTERNAL) as one, FakeGateway(2, INTERNAL) as two:
        one.auth_dir, two.auth_dir = tmp_path / "shard-1", tmp_path / "shard-2"
        one.auth_dir.mkdir()
        two.auth_dir.mkdir()
        yield one, two


def run_move(settings: Settings, one: FakeGateway, two: FakeGateway, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": settings.database_url, "BAILEYS_NUM_SHARDS": "2",
           "BAILEYS_SHARD_1_URL": one.url, "BAILEYS_SHARD_2_URL": two.url, "INTERNAL_SECRET": INTERNAL,
           "APP_ENV": "development"}
    return subprocess.run([sys.executable, "-m", "api.whatsapp_move", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def shard_now(db: Session, business_id: int) -> int:
    db.expire_all()
    return int(db.scalar(select(Business.whatsapp_shard).where(Business.id == business_id)) or 0)


def creds(volume: Path, business_id: int) -> Path:
    path = volume / "auth" / str(business_id)
    path.mkdir(parents=True)
    (path / "creds.json").write_text('{"me": "secret"}')
    (path / "keys.json").write_text('{"k": 1}')
    return path


def test_moves_with_the_auth_state(db: Session, api_settings: Settings, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, two = shards
    business = make_tenant(db, 1).business_id
    assert one.auth_dir is not None and two.auth_dir is not None
    old = creds(one.auth_dir, business)
    one.set_state(business, "connected")
    volumes = ("--old-volume", str(one.auth_dir), "--new-volume", str(two.auth_dir))
    refused = run_move(api_settings, one, two, str(business), "2", *volumes)
    assert refused.returncode == 2, refused.stderr
    assert "holds the session (state connected)" in refused.stderr and "docker compose stop baileys)" in refused.stderr
    assert shard_now(db, business) == 1 and old.is_dir() and not (two.auth_dir / "auth" / str(business)).exists()
    one.supports_stop = True
    done = run_move(api_settings, one, two, str(business), "2", *volumes)
    assert done.returncode == 0, done.stderr
    assert "state connected" in done.stdout and "rescan" not in done.stdout, done.stdout
    assert shard_now(db, business) == 2
    moved = two.auth_dir / "auth" / str(business)
    assert (moved / "creds.json").read_text() == '{"me": "secret"}' and (moved / "keys.json").is_file()
    assert not old.exists() and [p.name.startswith(f".moved-{business}-") for p in old.parent.iterdir()] == [True]
    assert one.sessions[str(business)]["state"] == "stopped" and two.sessions[str(business)]["state"] == "connected"
    assert not [p for p in (two.auth_dir / "auth").iterdir() if p.name.startswith(".incoming")]


def test_without_auth_state_a_rescan_is_needed(db: Session, api_settings: Settings,
                                               shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, two = shards
    business = make_tenant(db, 1).business_id
    one.supports_stop = True
    settings = _settings(api_settings, one, two)
    result = move(settings, business, 2)
    assert (result.state, result.auth_copied, result.rescan_needed) == ("qr", False, True)
    assert any("QR rescan is needed" in step for step in result.steps)
    assert shard_now(db, business) == 2


def test_refusals_change_nothing(db: Session, api_settings: Settings, shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, two = shards
    business = make_tenant(db, 1).business_id
    assert one.auth_dir is not None and two.auth_dir is not None
    settings = _settings(api_settings, one, two)
    for target, match in ((1, "already on shard 1"), (3, "shard 3 is not configured")):
        with pytest.raises(MoveRefused, match=match):
            move(settings, business, target)
    with pytest.raises(MoveRefused, match="not found"):
        move(settings, 999, 2)
    with pytest.raises(MoveRefused, match="both --old-volume and --new-volume"):
        move(settings, business, 2, old_volume=one.auth_dir)
    one.supports_stop = True
    creds(one.auth_dir, business)
    creds(two.auth_dir, business)  # stale state already on the new volume
    with pytest.raises(MoveRefused, match="already exists"):
        move(settings, business, 2, old_volume=one.auth_dir, new_volume=two.auth_dir)
    assert shard_now(db, business) == 1 and (one.auth_dir / "auth" / str(business) / "creds.json").is_file()
    assert not two.requests  # the new shard was never asked to start


def test_an_unreachable_old_shard_needs_the_operators_word(db: Session, api_settings: Settings,
                                                           shards: tuple[FakeGateway, FakeGateway]) -> None:
    one, two = shards
    business = make_tenant(db, 1).business_id
    down = f"http://127.0.0.1:{free_port()}"
    settings = Settings(**{**_settings(api_settings, one, two).__dict__, "baileys_shard_urls": (down, two.url)})
    with pytest.raises(MoveRefused, match="--old-shard-stopped"):
        move(settings, business, 2)
    assert shard_now(db, business) == 1
    result = move(settings, business, 2, old_shard_stopped=True)
    assert result.state == "qr" and shard_now(db, business) == 2
    # and back, to a shard that is down: the business is moved, the start fails loudly (exit 1)
    one.close()
    stale = run_move(settings, one, two, str(business), "1", "--old-shard-stopped")
    # the word is not taken for a shard that answers and still holds the session
    assert stale.returncode == 2 and "holds the session (state qr)" in stale.stderr, stale.stderr
    two.supports_stop = True
    failed = run_move(settings, one, two, str(business), "1")  # run_move: shard 1 is the closed fake
    assert failed.returncode == 1 and "did not start the session" in failed.stderr, failed.stderr
    assert shard_now(db, business) == 1


def _settings(api_settings: Settings, one: FakeGateway, two: FakeGateway) -> Settings:
    from dataclasses import replace

    return replace(api_settings, baileys_shard_urls=(one.url, two.url))
