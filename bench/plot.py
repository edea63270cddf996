"""Draw the sweep: CPU per call-second, underruns and barge-in latency against calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(results: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("bench: matplotlib is not installed; no picture (pip install -e '.[bench]')")
        return None
    ours = sorted(
        results.get("capacity", []) + results.get("peer", {}).get("ours", []),
        key=lambda r: r["calls"],
    )
    theirs = results.get("peer", {}).get("pipecat", [])
    floor = results.get("cost", {}).get("levels", [])
    if not (ours or theirs or floor):
        return None
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = [
        ("cpu_us_per_call_s", "server CPU µs per call-second", None),
        ("underruns_per_min", "playback underruns per call-minute", None),
        ("barge_in_p99_ms", "barge-in latency p99 (ms)", 250),
    ]
    for ax, (key, title, limit) in zip(axes, panels, strict=True):
        for rows, label, style in ((ours, "ProSaaS calls engine", "o-"), (theirs, "Pipecat 1.14 echo", "s--")):
            points = [(r["calls"], r[key]) for r in rows if r.get(key) is not None]
            if points:
                ax.plot(*zip(*points, strict=True), style, label=label)
        if key == "cpu_us_per_call_s" and floor:
            for mode, label, style in (("receive", "bare trio-websocket, receive only", "v:"),
                                       ("echo", "bare trio-websocket, lean echo", "^:"),
                                       ("engine", "engine (cost suite)", "D-")):
                points = [(r["calls"], r["median_us_per_call_s"][mode]) for r in floor]
                ax.plot(*zip(*points, strict=True), style, label=label)
        if limit is not None:
            ax.axhline(limit, color="red", linewidth=0.8, linestyle=":", label="target")
        ax.set_title(title)
        ax.set_xlabel("concurrent calls")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.suptitle("Calls engine sweep (2-core machine; engine on CPU 0, harness on CPU 1)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
