"""Reading environment variables: the pieces every service's settings module shares (pure).

``EnvReader`` collects every problem instead of stopping at the first, so a service fails at
start with one message listing each missing or invalid variable. The parsers raise
``ValueError`` with a short expectation ("expected 1..1000") that the reader prefixes with the
variable's name and value. ``Secret`` keeps tokens and keys out of reprs and logs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar, final

__all__ = [
    "APP_ENVS",
    "LOG_LEVELS",
    "CommonSettings",
    "EnvReader",
    "Secret",
    "boolean",
    "choice",
    "float_range",
    "http_url",
    "int_range",
    "redis_url",
    "stream_url",
    "token",
    "ws_url",
]

T = TypeVar("T")

APP_ENVS = ("development", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@final
class Secret:
    """A string that never shows itself in ``repr``/logs (starlette's ``Secret``)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@final
class EnvReader:
    """Typed reads from one environment mapping; problems pile up in ``problems``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self.problems: list[str] = []

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        """The parsed value, or ``default`` when unset/blank or invalid (then noted)."""
        raw = self._env.get(name, "").strip()
        if raw == "":
            return default
        try:
            return parse(raw)
        except ValueError as exc:
            self.problems.append(f"{name}={raw!r}: {exc}")
            return default

    def secret(self, name: str, parse: Callable[[str], str] | None = None) -> Secret:
        """A secret; an invalid one is reported without showing its value."""
        raw = self._env.get(name, "").strip()
        if raw and parse is not None:
            try:
                raw = parse(raw)
            except ValueError as exc:
                self.problems.append(f"{name}: {exc}")
                raw = ""
        return Secret(raw)


def choice(allowed: tuple[str, ...], *, upper: bool = False) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw.lower()
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value

    return parse


def int_range(low: int, high: int, *, step: int = 1) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("expected a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"expected {low}..{high}")
        if value % step:
            raise ValueError(f"expected a multiple of {step}")
        return value

    return parse


def float_range(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("expected a number") from None
        if not low <= value <= high:
            raise ValueError(f"expected {low:g}..{high:g}")
        return value

    return parse


def boolean(raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def http_url(raw: str) -> str:
    if not raw.startswith(("https://", "http://")) or "?" in raw:
        raise ValueError("expected an http(s):// URL without a query string")
    return raw.rstrip("/")


def ws_url(raw: str) -> str:
    if not raw.startswith(("wss://", "ws://")) or "?" in raw:
        raise ValueError("expected a ws(s):// URL without a query string (the model is added)")
    return raw.rstrip("/")


def token(raw: str) -> str:
    if not raw.replace("-", "").replace(".", "").replace("_", "").isalnum():
        raise ValueError("expected letters, digits, '-', '.' or '_'")
    return raw


def stream_url(public_base_url: str) -> str:
    """The media stream's URL for a public origin: ``https://x`` → ``wss://x/ws/twilio`` (no
    query string: docs/ARCHITECTURE.md). Twilio signs this URL; the API gives it in its TwiML."""
    base = public_base_url.rstrip("/")
    if not base:
        return ""
    for old, new in (("https://", "wss://"), ("http://", "ws://")):
        if base.startswith(old):
            base = new + base[len(old):]
    return base + "/ws/twilio"


def redis_url(raw: str) -> str:
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected redis://, rediss:// or unix://")
    return raw


@final
@dataclass(frozen=True)
class CommonSettings:
    """The variables every service reads the same way (names, parsers, defaults, checks).

    ``APP_ENV``, ``LOG_LEVEL``, ``REDIS_URL``, ``PUBLIC_BASE_URL``, ``TWILIO_AUTH_TOKEN`` and
    ``INTERNAL_SECRET``: the calls service and the API both need them and must agree on them
    (the token signs what the other verifies). Each service's ``Settings.from_env`` starts here.
    """

    app_env: str
    log_level: str
    redis_url: str
    public_base_url: str
    twilio_auth_token: Secret
    internal_secret: Secret

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @classmethod
    def read(cls, reader: EnvReader, *, signed: str) -> CommonSettings:
        """Read the shared variables; problems go to ``reader.problems``.

        Args:
            reader: The service's reader (it goes on to read the service's own variables).
            signed: What Twilio signs with ``PUBLIC_BASE_URL`` in this service (for the message
                when ``TWILIO_AUTH_TOKEN`` is set without it).
        """
        get = reader.get
        settings = cls(
            app_env=get("APP_ENV", choice(APP_ENVS), "development"),
            log_level=get("LOG_LEVEL", choice(LOG_LEVELS, upper=True), "INFO"),
            redis_url=get("REDIS_URL", redis_url, DEFAULT_REDIS_URL),
            public_base_url=get("PUBLIC_BASE_URL", http_url, ""),
            twilio_auth_token=reader.secret("TWILIO_AUTH_TOKEN"),
            internal_secret=reader.secret("INTERNAL_SECRET"),
        )
        if settings.twilio_auth_token and not settings.public_base_url:
            reader.problems.append(
                f"PUBLIC_BASE_URL: required when TWILIO_AUTH_TOKEN is set (Twilio signs {signed})"
            )
        if settings.production:
            for name, value in (
                ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                ("INTERNAL_SECRET", settings.internal_secret),
                ("PUBLIC_BASE_URL", settings.public_base_url),
            ):
                if not value:
                    reader.problems.append(f"{name}: required when APP_ENV=production")
        return settings
