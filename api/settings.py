"""The API's configuration: the only module of ``api`` that reads ``os.environ``.

``Settings.from_env()`` parses every variable once at start-up into a frozen object and raises
one ``SettingsError`` listing every missing or invalid variable (docs/ARCHITECTURE.md §8), so an operator
fixes them all in one go. ``APP_ENV=production`` refuses to start without its secrets.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import final

from api.errors import SettingsError
from contracts.envvars import CommonSettings, EnvReader, Secret, boolean, stream_url
from contracts.envvars import float_range as _float_range
from contracts.envvars import http_url as _url
from contracts.envvars import int_range as _int_range
from contracts.envvars import ws_url as _ws_url

__all__ = ["DEV_SECRET_KEY", "Secret", "Settings"]

# Development only: lets cookies survive restarts and several workers without configuration.
# Production refuses to start with it (SECRET_KEY is required there).
DEV_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105
DEFAULT_DATABASE_URL = "sqlite:///var/prosaas.db"
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # photos from a phone, a scanned PDF
MAX_SHARDS = 64  # BAILEYS_NUM_SHARDS upper bound: a sanity limit, not a design one


@final
@dataclass(frozen=True)
class Settings:
    """Everything the API reads from its environment (the README lists each variable)."""

    app_env: str = "development"
    log_level: str = "INFO"
    host: str = "0.0.0.0"
    port: int = 5000
    workers: int = 1
    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = 10
    db_statement_timeout_ms: int = 10_000
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_pool_size: int = 32
    secret_key: Secret = field(default_factory=lambda: Secret(DEV_SECRET_KEY))
    internal_secret: Secret = field(default_factory=lambda: Secret(""))
    public_base_url: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: Secret = field(default_factory=lambda: Secret(""))
    twilio_api_base_url: str = ""  # tests/staging: send REST calls to a fake of api.twilio.com
    recordings_dir: Path = Path("var/recordings")
    media_dir: Path = Path("var/media")
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES  # POST /api/attachments: one file at most this big
    # Post-call processing (jobs.postcall): OpenAI Chat Completions when a key is set.
    openai_api_key: Secret = field(default_factory=lambda: Secret(""))
    openai_base_url: str = "https://api.openai.com/v1"
    openai_summary_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = 20.0
    # Outbound business webhooks (jobs.webhooks); private addresses: allowed unless production.
    webhook_timeout_seconds: float = 10.0
    webhook_allow_private: bool = True
    baileys_shard_urls: tuple[str, ...] = ("http://baileys:3300",)
    shard_probe_timeout_seconds: float = 1.0
    session_max_age_seconds: int = 8 * 3600  # from login, however active
    session_idle_seconds: int = 1800  # since the session's last request
    login_attempts_per_account: int = 5  # per LOGIN_WINDOW_SECONDS
    login_attempts_per_ip: int = 20
    login_window_seconds: int = 300
    # Proxies in front of the API that set X-Forwarded-For (nginx: 1). 0 trusts none: the peer
    # address is the client's (the login limiter's per-address bucket depends on it).
    trusted_proxy_hops: int = 0
    max_in_flight: int = 8  # requests in the handlers at once (bench.overload_bench); the excess gets 503
    max_waiting: int = 8  # requests that may wait for a place: a burst is not overload (bench.overload_bench)
    max_wait_ms: int = 25  # the longest one waits before it is refused
    events_max_streams: int = 2000  # per process: above any one user's or business's cap
    events_max_streams_per_business: int = 100
    events_max_streams_per_user: int = 5
    git_commit: str = ""
    build_time: str = ""
    # The local stack (make run, no nginx): the built SPA served by the API itself, and the
    # calls service's own origin for the browser's test call (api/routes/spa.py).
    spa_dist: Path | None = None
    calls_public_ws_url: str = ""
    # Fernet keys for secrets at rest (api.crypto); empty = derived from SECRET_KEY.
    data_encryption_keys: tuple[str, ...] = ()
    seed_owner_password: Secret = field(default_factory=lambda: Secret(""))  # python -m api.seed only
    seed_admin_password: Secret = field(default_factory=lambda: Secret(""))

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def stream_url(self) -> str:
        """The ``wss://`` media stream URL given to Twilio (no query string: docs/ARCHITECTURE.md §2)."""
        return stream_url(self.public_base_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse ``environ`` (default ``os.environ``).

        Raises:
            SettingsError: listing every missing or invalid variable.
        """
        env = os.environ if environ is None else environ
        reader = EnvReader(env)
        get, secret, problems = reader.get, reader.secret, reader.problems

        common = CommonSettings.read(reader, signed="the public URL of each webhook")
        secret_key = secret("SECRET_KEY")
        num_shards = get("BAILEYS_NUM_SHARDS", _int_range(1, MAX_SHARDS), 1)
        shard_urls = tuple(
            get(f"BAILEYS_SHARD_{n}_URL", _url, "http://baileys:3300" if n == 1 else f"http://baileys-{n}:3300")
            for n in range(1, num_shards + 1)
        )
        settings = cls(
            app_env=common.app_env,
            log_level=common.log_level,
            host=get("API_HOST", str, "0.0.0.0"),
            port=get("API_PORT", _int_range(0, 65535), 5000),
            workers=get("API_WORKERS", _int_range(1, 64), 1),
            database_url=get("DATABASE_URL", _database_url, DEFAULT_DATABASE_URL),
            db_pool_size=get("DB_POOL_SIZE", _int_range(1, 200), 10),
            db_statement_timeout_ms=get("DB_STATEMENT_TIMEOUT_MS", _int_range(100, 600_000), 10_000),
            redis_url=common.redis_url,
            redis_pool_size=get("REDIS_POOL_SIZE", _int_range(1, 1000), 32),
            secret_key=secret_key if secret_key else Secret(DEV_SECRET_KEY),
            internal_secret=common.internal_secret,
            public_base_url=common.public_base_url,
            twilio_account_sid=get("TWILIO_ACCOUNT_SID", _account_sid, ""),
            twilio_auth_token=common.twilio_auth_token,
            twilio_api_base_url=get("TWILIO_API_BASE_URL", _url, ""),
            recordings_dir=get("RECORDINGS_DIR", Path, Path("var/recordings")),
            media_dir=get("MEDIA_DIR", Path, Path("var/media")),
            max_upload_bytes=get("MAX_UPLOAD_BYTES", _int_range(1024, 1 << 30), DEFAULT_MAX_UPLOAD_BYTES),
            openai_api_key=secret("OPENAI_API_KEY"),
            openai_base_url=get("OPENAI_BASE_URL", _url, "https://api.openai.com/v1").rstrip("/"),
            openai_summary_model=get("OPENAI_SUMMARY_MODEL", str, "gpt-4o-mini"),
            openai_timeout_seconds=get("OPENAI_TIMEOUT_SECONDS", _float_range(0.1, 110), 20.0),
            webhook_timeout_seconds=get("WEBHOOK_TIMEOUT_SECONDS", _float_range(0.1, 25), 10.0),
            webhook_allow_private=get("WEBHOOK_ALLOW_PRIVATE", boolean, not common.production),
            baileys_shard_urls=shard_urls,
            shard_probe_timeout_seconds=get("BAILEYS_PROBE_TIMEOUT_SECONDS", _float_range(0.05, 30), 1.0),
            session_max_age_seconds=get("SESSION_MAX_AGE_SECONDS", _int_range(60, 30 * 86_400), 8 * 3600),
            session_idle_seconds=get("SESSION_IDLE_SECONDS", _int_range(60, 30 * 86_400), 1800),
            trusted_proxy_hops=get("API_TRUSTED_PROXY_HOPS", _int_range(0, 5), 0),
            max_in_flight=get("API_MAX_IN_FLIGHT", _int_range(1, 10_000), 8),
            max_waiting=get("API_MAX_WAITING", _int_range(0, 100_000), 8),
            max_wait_ms=get("API_MAX_WAIT_MS", _int_range(0, 10_000), 25),
            events_max_streams=get("EVENTS_MAX_STREAMS", _int_range(1, 100_000), 2000),
            events_max_streams_per_business=get("EVENTS_MAX_STREAMS_PER_BUSINESS", _int_range(1, 100_000), 100),
            events_max_streams_per_user=get("EVENTS_MAX_STREAMS_PER_USER", _int_range(1, 100_000), 5),
            git_commit=get("GIT_COMMIT", str, ""),
            build_time=get("BUILD_TIME", str, ""),
            spa_dist=get("SPA_DIST", _spa_dist, None),
            calls_public_ws_url=get("CALLS_PUBLIC_WS_URL", _ws_url, ""),
            data_encryption_keys=_fernet_keys(secret("DATA_ENCRYPTION_KEY").reveal(), problems),
            seed_owner_password=secret("SEED_OWNER_PASSWORD"),
            seed_admin_password=secret("SEED_ADMIN_PASSWORD"),
        )
        # One account must not be able to fill the process: its caps stay below the process's.
        for name, cap in (("EVENTS_MAX_STREAMS_PER_USER", settings.events_max_streams_per_user),
                          ("EVENTS_MAX_STREAMS_PER_BUSINESS", settings.events_max_streams_per_business)):
            if cap >= settings.events_max_streams:
                problems.append(f"{name}: must be below EVENTS_MAX_STREAMS ({settings.events_max_streams})")
        if common.production:
            if not secret_key or secret_key.reveal() == DEV_SECRET_KEY:
                problems.append("SECRET_KEY: required when APP_ENV=production")
            elif len(secret_key.reveal()) < 32:
                problems.append("SECRET_KEY: must be at least 32 characters in production")
        if problems:
            raise SettingsError(problems)
        return settings


def _database_url(raw: str) -> str:
    if not raw.startswith(("sqlite://", "postgresql://", "postgresql+psycopg2://", "postgres://")):
        raise ValueError("expected sqlite:///path or postgresql://…")
    # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; the driver installed is psycopg2.
    for alias in ("postgres://", "postgresql://"):
        if raw.startswith(alias):
            raw = "postgresql+psycopg2://" + raw[len(alias):]
    return raw


def _spa_dist(raw: str) -> Path:
    path = Path(raw)
    if not (path / "index.html").is_file():
        raise ValueError("expected the built SPA's directory (frontend/dist, with index.html)")
    return path


def _fernet_keys(raw: str, problems: list[str]) -> tuple[str, ...]:
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    for key in keys:
        try:
            ok = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (ValueError, UnicodeError):
            ok = False
        if not ok:
            problems.append(
                "DATA_ENCRYPTION_KEY: each comma-separated key must be a Fernet key "
                "(32 bytes, url-safe base64; make one with "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            )
            return ()
    return keys


def _account_sid(raw: str) -> str:
    if not re.fullmatch(r"AC[0-9a-fA-F]{32}", raw):
        raise ValueError("expected AC followed by 32 hex digits")
    return raw
