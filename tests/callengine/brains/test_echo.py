from __future__ import annotations

from callengine.audio.mulaw import pcm_to_ulaw, ulaw_to_pcm
from callengine.brains.echo import EchoTurns
from callengine.events import ClearPlayback, MarkReached, MediaReceived, SendAudio, SendMark

LOUD = pcm_to_ulaw(b"".join(int(6000 * (-1) ** (i // 8)).to_bytes(2, "little", signed=True) for i in range(160)))
QUIET = b"\xff" * 160


def frame(ulaw: bytes, n: int = 0) -> MediaReceived:
    return MediaReceived(ulaw, ulaw_to_pcm(ulaw), n * 20, n, n)


def play(turns: EchoTurns, frames: list[bytes]) -> list:
    out = []
    for i, f in enumerate(frames):
        out += turns.on_media(frame(f, i))
    return out


def test_utterance_is_echoed_after_the_pause_without_the_trailing_silence():
    turns = EchoTurns(pause_ms=200)
    out = play(turns, [QUIET] * 10 + [LOUD] * 25 + [QUIET] * 10)
    audio, mark = out
    assert isinstance(audio, SendAudio) and isinstance(mark, SendMark)
    assert len(audio.ulaw) == 25 * 160  # the speech, onset pre-roll included, no pause
    assert turns.talking
    turns.on_mark(MarkReached(mark.name, 99))
    assert not turns.talking


def test_caller_speech_while_talking_clears_playback():
    turns = EchoTurns(pause_ms=200)
    play(turns, [LOUD] * 20 + [QUIET] * 10)
    assert turns.talking
    out = play(turns, [LOUD] * 3)
    assert out == [ClearPlayback()]
    assert turns.barge_ins == 1
    assert turns.turns[-1]["interrupted"] is True
    # the interrupting utterance is echoed in turn
    out = play(turns, [LOUD] * 10 + [QUIET] * 10)
    assert isinstance(out[0], SendAudio) and len(out[0].ulaw) == 13 * 160


def test_stale_marks_are_ignored():
    turns = EchoTurns(pause_ms=200)
    play(turns, [LOUD] * 10 + [QUIET] * 10)
    turns.on_mark(MarkReached("echo-999", 1))
    assert turns.talking


def test_utterance_memory_is_bounded():
    turns = EchoTurns(pause_ms=200)
    out = play(turns, [LOUD] * 2000 + [QUIET] * 10)
    assert len(out[0].ulaw) <= 500 * 160
