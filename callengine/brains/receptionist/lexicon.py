"""The acoustic model's pronunciation dictionary, read once per process (for compact decoders).

pocketsphinx builds every language-model search over the decoder's whole dictionary (the
134k words of cmudict-en-us): adding one business's need model took 3.4 s of CPU with it and
3 ms with a dictionary of only the words in use, and a decoder without the full-vocabulary
model builds in ~15 ms instead of ~400 ms. The answer workers' decoders therefore start from a
one-word dictionary and are given each word a grammar or a need model uses, with every
pronunciation listed here, just before that search is built.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pocketsphinx

__all__ = ["Lexicon", "model_lexicon"]


class Lexicon:
    """Word → pronunciations (phone strings), in the dictionary's order."""

    def __init__(self, lines: list[str]) -> None:
        prons: dict[str, list[str]] = {}
        for line in lines:
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                continue
            word = parts[0].split("(", 1)[0]  # "read(2)": the second pronunciation of "read"
            phones = parts[1].split("#", 1)[0].strip()  # cmudict may comment a line
            if phones:
                prons.setdefault(word, []).append(phones)
        self._prons = {word: tuple(p) for word, p in prons.items()}

    @classmethod
    def read(cls, path: Path) -> Lexicon:
        return cls(path.read_text(encoding="utf-8", errors="replace").splitlines())

    def pronunciations(self, word: str) -> tuple[str, ...]:
        return self._prons.get(word, ())

    def __contains__(self, word: object) -> bool:
        return word in self._prons


@functools.cache
def model_lexicon() -> Lexicon:
    """The dictionary of pocketsphinx's default US English model (~0.3 s, once per process)."""
    return Lexicon.read(Path(pocketsphinx.Config()["dict"]))
