"""Speech out: WAV conversion, the espeak-ng voice, and the clips used without espeak-ng."""

from __future__ import annotations

import shutil

import orjson
import pytest

from callengine.brains.receptionist.dialogue import Dialogue, HangUpAction, SayAction
from callengine.brains.receptionist.setup import parse_setup
from callengine.brains.receptionist.tts import ClipBank, SpeechError, Voice, wav_to_ulaw, words_of


def wav(pcm: bytes, rate: int = 22050, bits: int = 16, channels: int = 1) -> bytes:
    fmt = (
        b"fmt " + (16).to_bytes(4, "little") + (1).to_bytes(2, "little")
        + channels.to_bytes(2, "little") + rate.to_bytes(4, "little")
        + (rate * channels * bits // 8).to_bytes(4, "little")
        + (channels * bits // 8).to_bytes(2, "little") + bits.to_bytes(2, "little")
    )
    data = b"data" + (0xFFFFFFFF).to_bytes(4, "little") + pcm  # espeak-ng's streaming size
    return b"RIFF" + (0).to_bytes(4, "little") + b"WAVE" + fmt + data


def test_wav_to_ulaw_resamples_to_8_khz() -> None:
    ulaw = wav_to_ulaw(wav(b"\x10\x00" * 22050))
    assert abs(len(ulaw) - 8000) <= 2  # one second at 8 kHz, one byte per sample


@pytest.mark.parametrize("bad", [b"nope", wav(b"\x00" * 100, bits=8), wav(b"\x00" * 100, channels=2)])
def test_wav_to_ulaw_refuses_what_it_cannot_read(bad: bytes) -> None:
    with pytest.raises(SpeechError):
        wav_to_ulaw(bad)


def test_words_of_says_digits_as_words() -> None:
    assert words_of("Call 5 5, ok?") == ["call", "five", "five", "ok"]


def prompts_of_a_call(greeting: str | None = None) -> list[str]:
    raw = None if greeting is None else orjson.dumps({"call_sid": "CA1", "greeting": greeting})
    d = Dialogue(parse_setup(raw, caller="+15551230000"))
    texts: list[str] = []
    for actions in (d.start(), d.heard(None), d.pressed("0"), d.heard("a message"),
                    d.heard("david"), d.heard("yes"), d.silence(), d.heard("yes")):
        texts += [a.text for a in actions if isinstance(a, SayAction)]
        assert not any(isinstance(a, HangUpAction) for a in actions) or d.ended
    return texts


def test_clips_cover_every_default_prompt_but_names() -> None:
    bank = ClipBank()
    for text in prompts_of_a_call():
        assert bank.render(text)
    assert bank.missing_words == 2  # "David" twice: names are spelled, not said, from clips


def test_clips_cover_the_menu_after_a_greeting_that_already_asks() -> None:
    bank = ClipBank()
    texts = prompts_of_a_call(greeting="Hello, you reached Demo Dental. How can I help you today?")
    assert any(t.startswith("Tell me") for t in texts)
    for text in texts:
        if not text.startswith("Hello"):  # the business's own greeting is not in the clips
            assert bank.render(text)
    assert bank.missing_words == 2


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
async def test_espeak_voice_is_preferred_and_cached() -> None:
    voice = Voice()
    assert voice.engine == "espeak-ng"
    audio = await voice.render("Goodbye.")
    assert 3000 < len(audio) < 16000
    assert await voice.render("Goodbye.") is audio


def test_clips_only_voice() -> None:
    assert Voice(engine="clips").engine == "clips"


def test_clips_cover_the_clarifying_question_and_the_keypad_menu() -> None:
    bank = ClipBank()
    d = Dialogue(parse_setup(None, caller="+15551230000"))
    d.start()
    texts: list[str] = []
    for actions in (
        d.heard("i need help", sentence="hello i was hoping you could help me with my thing"),
        d.heard(None),
        d.heard("no"),
    ):
        texts += [a.text for a in actions if isinstance(a, SayAction)]
    assert texts[0] == "Is that about support, or something else?"
    assert any("keypad" in t for t in texts)
    for text in texts:
        assert bank.render(text)
    assert bank.missing_words == 0
