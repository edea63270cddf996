from __future__ import annotations

from callengine.audio.vad import EnergyVad, VadConfig, VadEvent


def feed(vad: EnergyVad, energies: list[int]) -> list[tuple[int, VadEvent]]:
    return [(i, e) for i, x in enumerate(energies) if (e := vad.update(x)) is not None]


def test_speech_starts_after_onset_frames_and_ends_after_pause():
    vad = EnergyVad(VadConfig(onset_frames=3, pause_frames=5))
    events = feed(vad, [50] * 10 + [3000] * 10 + [50] * 10)
    assert events == [(12, VadEvent.SPEECH_STARTED), (24, VadEvent.SPEECH_ENDED)]


def test_short_click_is_not_speech():
    vad = EnergyVad(VadConfig(onset_frames=3, pause_frames=5))
    assert feed(vad, [50] * 10 + [5000, 5000] + [50] * 10) == []


def test_brief_dip_inside_speech_does_not_end_the_turn():
    vad = EnergyVad(VadConfig(onset_frames=3, pause_frames=5))
    events = feed(vad, [3000] * 10 + [50] * 3 + [3000] * 10)
    assert [e for _, e in events] == [VadEvent.SPEECH_STARTED]


def test_threshold_follows_a_noisy_line():
    vad = EnergyVad(VadConfig(min_rms=300, margin=3.0))
    feed(vad, [400] * 300)  # steady noise above the absolute floor stops being speech
    assert vad.threshold > 400
    assert not vad.speaking
