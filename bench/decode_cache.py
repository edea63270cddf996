"""Decodes kept on disk between runs of the synthetic-caller benches (``--cache FILE``).

A turn is decoded from a reset front end and the caller's own channel (``asr.Recognizer``), so
the same audio, search and channel always give the same ``Heard``: a run that changes only
the dialogue or the decision (``understanding.decision``) re-decodes nothing it decoded
before, and the ~8 minutes of ``bench.intent_accuracy`` become seconds. The key holds a hash
of the recogniser's source and pocketsphinx's version, so a change to recognition itself
starts afresh.
"""

from __future__ import annotations

import hashlib
import pickle
from importlib.metadata import version
from pathlib import Path

from callengine.brains.receptionist import asr
from callengine.brains.receptionist.asr import Heard, Recognizer

__all__ = ["CachedRecognizer"]


def _fingerprint() -> bytes:
    source = Path(asr.__file__).read_bytes()
    return hashlib.sha1(source + version("pocketsphinx").encode()).digest()


class CachedRecognizer:
    """``Recognizer.recognize`` with its results kept in ``path`` (None: nothing kept)."""

    def __init__(self, recognizer: Recognizer, path: Path | None) -> None:
        self._recognizer = recognizer
        self._path = path
        self._seed = _fingerprint()
        self._kept: dict[bytes, Heard] = {}
        if path is not None and path.exists():
            with path.open("rb") as file:
                self._kept = pickle.load(file)
        self.hits = self.misses = 0

    def recognize(self, pcm8k: bytes, grammar: str | None, channel: str | None = None) -> Heard:
        key = hashlib.sha1(self._seed)
        for part in (pcm8k, (grammar or "").encode(), (channel or "").encode()):
            key.update(len(part).to_bytes(8, "big") + part)
        digest = key.digest()
        heard = self._kept.get(digest)
        if heard is not None:
            self.hits += 1
            return heard
        self.misses += 1
        heard = self._kept[digest] = self._recognizer.recognize(pcm8k, grammar, channel)
        return heard

    def save(self) -> None:
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._path.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(self._kept))
            tmp.replace(self._path)
