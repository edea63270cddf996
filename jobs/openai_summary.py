"""The call summary from OpenAI's Chat Completions API (JSON output), for post-call processing.

One POST to ``{OPENAI_BASE_URL}/chat/completions`` with ``response_format: json_object``; the
model answers ``{"summary": …, "intent": …, "name": …}``. Failures split in two:

* ``TransientFailure`` — a timeout, a refused connection, 429 or 5xx: worth trying again later
  (the job raises it and RQ retries with the spec's backoff);
* ``UnusableAnswer`` — any other 4xx (a bad key, a bad model name) or an answer that is not the
  JSON asked for: retrying would get the same, so the job falls back to the offline summary and
  records why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from jobs.summary import MAX_SUMMARY, CallSummary, slug

__all__ = ["MAX_TRANSCRIPT", "TransientFailure", "UnusableAnswer", "openai_summary", "transcript_text"]

MAX_TRANSCRIPT = 12_000  # characters of dialogue sent (the end of a long call is dropped)
SYSTEM_PROMPT = (
    "You summarize phone calls answered by a business's AI receptionist. Answer with one JSON "
    'object: {"summary": "two or three sentences on who called, why, and what was agreed", '
    '"intent": "one or two lowercase words for why they called (e.g. billing, appointment, '
    'support, sales, pricing)", "name": "the caller\'s name if they said it, else null"}. '
    "Use only what the transcript says."
)


class TransientFailure(Exception):
    """OpenAI could not be reached or was overloaded; try again later."""


class UnusableAnswer(Exception):
    """OpenAI refused the request (4xx) or answered something other than the JSON asked for."""


def transcript_text(transcript: Iterable[Any], brain_summary: Mapping[str, Any]) -> str:
    """The dialogue as "Caller: …" / "Receptionist: …" lines, plus what the brain captured."""
    lines = []
    for turn in transcript:
        if not isinstance(turn, Mapping):
            continue
        speaker = turn.get("speaker", turn.get("role"))
        text = turn.get("text") or turn.get("heard")
        if isinstance(text, str) and text.strip():
            who = "Caller" if speaker in ("caller", "user", "customer") else "Receptionist"
            lines.append(f"{who}: {' '.join(text.split())}")
    lead = brain_summary.get("lead")
    if isinstance(lead, Mapping):
        facts = {k: v for k, v in lead.items() if isinstance(v, str) and v.strip()}
        if facts:
            lines.append(f"(Captured by the receptionist: {json.dumps(facts, ensure_ascii=False)})")
    return "\n".join(lines)[:MAX_TRANSCRIPT] or "(no speech was recorded)"


def openai_summary(
    transcript: Iterable[Any], brain_summary: Mapping[str, Any], *, api_key: str, base_url: str,
    model: str, timeout_seconds: float,
) -> CallSummary:
    """Ask the model for the call's summary, intent and caller name.

    Raises:
        TransientFailure: timeout, connection error, 429 or 5xx.
        UnusableAnswer: another 4xx, or an answer that is not the JSON object asked for.
    """
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": transcript_text(transcript, brain_summary)},
        ],
        "response_format": {"type": "json_object"},
        "max_completion_tokens": 400,
    }
    try:
        answer = requests.post(
            f"{base_url.rstrip('/')}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_seconds,
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise TransientFailure(f"OpenAI timed out after {timeout_seconds:g} s") from exc
    except requests.RequestException as exc:
        raise TransientFailure(f"OpenAI unreachable: {type(exc).__name__}") from exc
    if answer.status_code == 429 or answer.status_code >= 500:
        raise TransientFailure(f"OpenAI answered HTTP {answer.status_code}")
    if answer.status_code != 200:
        raise UnusableAnswer(f"OpenAI answered HTTP {answer.status_code}: {_error_text(answer)}")
    return _read_answer(answer)


def _error_text(answer: requests.Response) -> str:
    try:
        message = answer.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return answer.text[:200]
    return str(message)[:200]


def _read_answer(answer: requests.Response) -> CallSummary:
    try:
        content = answer.json()["choices"][0]["message"]["content"]
        fields = json.loads(content)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise UnusableAnswer(f"OpenAI's answer is not the JSON asked for ({type(exc).__name__})") from exc
    if not isinstance(fields, dict):
        raise UnusableAnswer("OpenAI's answer is not a JSON object")
    summary, intent, name = fields.get("summary"), fields.get("intent"), fields.get("name")
    if not isinstance(summary, str) or not summary.strip():
        raise UnusableAnswer("OpenAI's answer has no summary")
    text = " ".join(summary.split())
    if len(text) > MAX_SUMMARY:
        text = text[: MAX_SUMMARY - 1].rstrip() + "\u2026"
    return CallSummary(
        text=text,
        intent=slug(intent) if isinstance(intent, str) else "",
        name=" ".join(name.split())[:200] if isinstance(name, str) else "",
        source="openai",
    )
