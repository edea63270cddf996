"""TwiML documents the webhooks answer (pure; built with twilio's own ``VoiceResponse``)."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, VoiceResponse

__all__ = ["BUSY_MESSAGE", "connect_stream", "hangup", "reject", "say_busy_and_hang_up"]

BUSY_MESSAGE = "All our lines are busy right now. Please call again in a few minutes. Goodbye."


def reject(reason: str) -> str:
    """``<Reject reason="busy|rejected"/>``: the call is not answered and not billed."""
    response = VoiceResponse()
    response.reject(reason=reason)
    return str(response)


def connect_stream(*, action_url: str, stream_url: str, parameters: dict[str, str]) -> str:
    """``<Connect action=…><Stream url=…>`` with one ``<Parameter>`` per item, in order."""
    response = VoiceResponse()
    connect = Connect(action=action_url)
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def say_busy_and_hang_up(language: str = "en") -> str:
    response = VoiceResponse()
    response.say(BUSY_MESSAGE, language="en-US" if language == "en" else language)
    response.hangup()
    return str(response)
