"""How much of the assistant's audio the caller has heard, from Twilio's mark echoes (pure).

The brain sends every chunk of vendor audio followed by a mark. Twilio echoes a mark when the
audio before it has *played*, or at once when ``clear`` flushed it: so only echoes that arrive
before a barge-in count, and ``flush()`` forgets the marks still pending when playback is
cleared. The heard position of an item is what ``conversation.item.truncate`` needs
(``audio_end_ms``) and what cuts the assistant's transcript to the words actually said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import final

from callengine.audio.mulaw import BYTES_PER_SECOND

__all__ = ["PlayoutTracker"]


@dataclass(slots=True)
class _Item:
    sent_bytes: int = 0
    played_bytes: int = 0
    pending: int = 0  # marks sent and not yet echoed


@final
class PlayoutTracker:
    def __init__(self) -> None:
        self._items: dict[str, _Item] = {}
        self._marks: dict[str, tuple[str, int]] = {}  # mark name -> (item id, bytes before it)

    def sent(self, mark: str, item_id: str, nbytes: int) -> None:
        """``nbytes`` of ``item_id`` were queued for the caller, followed by ``mark``."""
        item = self._items.setdefault(item_id, _Item())
        item.sent_bytes += nbytes
        item.pending += 1
        self._marks[mark] = (item_id, nbytes)

    def reached(self, mark: str) -> bool:
        """Twilio echoed ``mark``: its audio was played. False for marks we do not track."""
        entry = self._marks.pop(mark, None)
        if entry is None:
            return False
        item = self._items[entry[0]]
        item.played_bytes += entry[1]
        item.pending -= 1
        return True

    @property
    def playing(self) -> bool:
        """Some queued assistant audio has not been heard yet."""
        return bool(self._marks)

    def playing_items(self) -> list[str]:
        """Items with audio still queued, oldest first."""
        return [item_id for item_id, item in self._items.items() if item.pending]

    def heard_ms(self, item_id: str) -> int:
        item = self._items.get(item_id)
        return item.played_bytes * 1000 // BYTES_PER_SECOND if item else 0

    def heard_total_ms(self) -> int:
        """All the assistant audio the caller heard in this call (talk time)."""
        return sum(item.played_bytes for item in self._items.values()) * 1000 // BYTES_PER_SECOND

    def sent_ms(self, item_id: str) -> int:
        item = self._items.get(item_id)
        return item.sent_bytes * 1000 // BYTES_PER_SECOND if item else 0

    def flush(self) -> dict[str, int]:
        """Playback was cleared: forget pending marks; returns each cut item's heard ms."""
        cut = {item_id: self.heard_ms(item_id) for item_id in self.playing_items()}
        for item_id in cut:
            self._items[item_id].pending = 0
        self._marks.clear()
        return cut
