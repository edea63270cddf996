from __future__ import annotations

from callengine.stats import LagHistogram


def test_percentiles_from_buckets():
    h = LagHistogram()
    for v in [0.1] * 98 + [10.0, 100.0]:
        h.add(v)
    assert h.percentile(50) == 0.5
    assert h.percentile(99) == 10.5
    assert h.summary()["max"] == 100.0


def test_very_late_frames_land_in_the_last_bucket():
    h = LagHistogram()
    h.add(10_000)
    assert h.percentile(100) == (LagHistogram.LIMIT + 1) * LagHistogram.RESOLUTION_MS
