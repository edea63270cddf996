"""Settings of one load-test run (pure, frozen)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from callengine.loadtest.session import Session

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from callengine.loadtest.slo import SloSpec

__all__ = ["DEFAULT_URL", "LoadTestConfig"]

DEFAULT_URL: Final = "ws://127.0.0.1:5050/ws/twilio"


@dataclass(frozen=True, slots=True)
class LoadTestConfig:
    """Everything :func:`~callengine.loadtest.runner.run_load_test` needs.

    Attributes:
        url: WebSocket target. None means :data:`DEFAULT_URL`, or, with ``twiml_url``, the
            ``<Stream url>`` the webhook returns (a given ``url`` overrides where to connect,
            while the signature still covers the TwiML URL).
        calls: Number of calls.
        ramp_s: Delay between call starts.
        sessions: Session files or :class:`Session` objects; calls cycle through them.
        scenario: Synthetic scenario (``talk``/``silence``/``dtmf``) used when no sessions.
        duration_s: Synthetic scenario length.
        speech_s: ``talk`` utterance length.
        pause_s: ``talk`` pause length.
        params: Extra ``customParameters`` for every call.
        auth_token: Twilio auth token: sign the upgrade (and the webhook) when set.
        public_url: URL to sign instead of the target mapped ws→wss / http→https.
        token_secret: Mint the per-call ``token`` parameter with this secret when set.
        twiml_url: POST a voice webhook here first and follow its TwiML.
        from_number: Webhook ``From``.
        to_number: Webhook ``To``.
        server_pid: Measure this process's CPU and RSS.
        seed: Seed for synthetic audio and noise (reproducible; SIDs do not depend on it).
        sid_seed: Seed for the CallSids, StreamSids and the AccountSid. None (the default) draws
            them from the OS at every run, so repeated runs never reuse a CallSid (the API keeps
            one record per CallSid and drops a second ``finalize_call`` for it as a duplicate).
        voiced_rms: RMS threshold of a voiced inbound frame.
        connect_timeout_s: TCP connect + upgrade (and webhook) deadline.
        close_timeout_s: How long to wait for the server's close frame after ours.
        barge_in_timeout_s: A barge-in with no ``clear`` within this time counts as missed.
        phase_spread: Start each call's 20 ms media clock at its own phase (0-20 ms after
            ``start``) so calls started on a ramp that is a multiple of 10 ms do not all share
            the same send instants (independent Twilio streams have arbitrary phases).
        progress: Print a live progress line on stderr.
        slos: Objectives checked at the end.
    """

    url: str | None = None
    calls: int = 1
    ramp_s: float = 0.01
    sessions: tuple[str | Path | Session, ...] = ()
    scenario: str = "talk"
    duration_s: float = 10.0
    speech_s: float = 1.4
    pause_s: float = 1.4
    params: Mapping[str, str] = field(default_factory=dict)
    auth_token: str | None = field(default=None, repr=False)
    public_url: str | None = None
    token_secret: str | None = field(default=None, repr=False)
    twiml_url: str | None = None
    from_number: str = "+15005550006"
    to_number: str = "+15005550001"
    server_pid: int | None = None
    seed: int = 0
    sid_seed: int | None = None
    voiced_rms: int = 300
    connect_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    barge_in_timeout_s: float = 2.0
    phase_spread: bool = True
    progress: bool = False
    slos: tuple[SloSpec, ...] = ()

    def describe(self) -> dict[str, Any]:
        """JSON-safe echo of the settings for the results (secrets reduced to booleans)."""
        return {
            "url": self.url or (None if self.twiml_url else DEFAULT_URL),
            "calls": self.calls,
            "ramp_s": self.ramp_s,
            "sessions": [s.name if isinstance(s, Session) else str(s) for s in self.sessions],
            "scenario": None if self.sessions else self.scenario,
            "duration_s": None if self.sessions else self.duration_s,
            "speech_s": self.speech_s,
            "pause_s": self.pause_s,
            "params": dict(self.params),
            "signed": self.auth_token is not None,
            "public_url": self.public_url,
            "token": self.token_secret is not None,
            "twiml_url": self.twiml_url,
            "server_pid": self.server_pid,
            "seed": self.seed,
            "sid_seed": self.sid_seed,
            "phase_spread": self.phase_spread,
            "slos": [str(s) for s in self.slos],
        }
