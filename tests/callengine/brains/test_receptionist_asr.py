"""pocketsphinx for real: grammar passes in threads, the transcript in a worker process."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from callengine.audio.mulaw import ulaw_to_pcm
from callengine.brains.receptionist.asr import (
    Recognizer,
    RecognizerError,
    RecognizerPool,
    _arpa_words,
    is_arpa,
    telephone_variants,
)
from callengine.brains.receptionist.grammars import (
    digits_grammar,
    intent_grammar,
    read_digits,
    yes_no_grammar,
)
from callengine.brains.receptionist.lexicon import Lexicon
from callengine.brains.receptionist.tts import Voice
from callengine.brains.receptionist.understanding import classify, need_lm, vocabulary
from callengine.loadtest.audio import noise_pcm


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(size=1)


async def speech(text: str) -> bytes:
    """``text`` as a caller would send it: 8 kHz μ-law, decoded, with quiet around it."""
    quiet = b"\x00\x00" * 1600
    return quiet + ulaw_to_pcm(await Voice().render(text)) + quiet


async def test_grammar_answers_are_recognised(recognizer: Recognizer) -> None:
    intents = ["sales", "support", "message"]
    assert recognizer.recognize(await speech("support"), intent_grammar(intents)).text == "support"
    assert recognizer.recognize(await speech("yes"), yes_no_grammar()).text in ("yes", "yeah", "yep")


async def test_a_turn_decodes_the_same_whatever_other_calls_said_before(recognizer: Recognizer) -> None:
    grammar = intent_grammar(["sales", "support", "message"])
    turn = await speech("I need support please")
    first = recognizer.recognize(turn, grammar)
    # Another caller on a loud, hissing line in between: its noise statistics and cepstral
    # mean must not leak into the next call's turn.
    other = noise_pcm(2.0, random.Random(5), 2000) + await speech("sales")
    other_channel = recognizer.recognize(other, grammar).channel
    assert recognizer.recognize(turn, grammar) == first
    # The caller's own channel does carry over, from their previous turn.
    assert first.channel != other_channel
    assert recognizer.recognize(turn, grammar, first.channel).channel != first.channel


async def test_an_open_sentence_is_decoded_with_the_need_model(recognizer: Recognizer) -> None:
    vocab = vocabulary(["appointment", "billing", "sales", "support", "message"])
    model = need_lm(vocab)
    assert is_arpa(model) and not is_arpa(intent_grammar(["sales"]))
    turn = await speech("Hello, I would like to book an appointment for tomorrow morning, please")
    heard = recognizer.recognize(turn, model)
    assert heard.text is not None and "appointment" in heard.text
    assert classify(heard.text, vocab).intent == "appointment"
    # the grammars still work on the same decoder after the model
    assert (
        recognizer.recognize(await speech("support"), intent_grammar(["sales", "support"])).text == "support"
    )


async def test_the_keyword_grammar_reports_its_close_alternatives(recognizer: Recognizer) -> None:
    grammar = intent_grammar(["appointment", "billing", "sales", "support", "message"])
    heard = recognizer.recognize(await speech("I need help"), grammar)
    assert heard.alternatives, "the n-best holds other word strings"
    gaps = [gap for _, gap in heard.alternatives]
    assert gaps == sorted(gaps) and all(gap >= 0 for gap in gaps)
    assert all(text != heard.text for text, _ in heard.alternatives)
    # only the keyword grammar's decode reads the n-best
    assert recognizer.recognize(await speech("yes"), yes_no_grammar()).alternatives == ()


def test_telephone_variants_drop_edge_fricatives() -> None:
    assert telephone_variants(["S EY L Z"]) == {"EY L Z", "S EY L"}  # not bare "EY L": "help"
    assert telephone_variants(["HH EH L P"]) == {"EH L P"}
    assert telephone_variants(["N OW"]) == set()


def test_a_bad_grammar_is_a_clear_error(recognizer: Recognizer) -> None:
    with pytest.raises(RecognizerError, match="invalid grammar"):
        recognizer.recognize(b"\x00\x00" * 8000, "#JSGF V1.0;\ngrammar g;\npublic <s> = (yes | ;\n")


async def test_grammar_decoding_lets_other_threads_run(recognizer: Recognizer) -> None:
    audio = (await speech("I need support please")) * 4
    assert longest_stall(lambda: recognizer.recognize(audio, intent_grammar(["sales", "support"]))) < 0.1


def longest_stall(work: Callable[[], object]) -> float:
    """Run ``work`` in a thread; the longest this thread waited for the GIL meanwhile."""
    gaps: list[float] = []
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    worker = threading.Thread(target=run)
    worker.start()
    last = time.perf_counter()
    while not done.is_set():
        time.sleep(0.002)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    worker.join()
    return max(gaps)  # the GIL is released between 100 ms pieces


@pytest.fixture
def pool() -> Iterator[RecognizerPool]:
    workers = RecognizerPool(workers=1, grammars=[yes_no_grammar()], full_vocabulary=True)
    workers.start()
    yield workers
    workers.close()


async def test_worker_processes_recognise_grammar_and_full_vocabulary(pool: RecognizerPool) -> None:
    assert pool.recognize(await speech("no"), yes_no_grammar()).text in ("no", "nope")
    assert pool.known_words(["sarah", "qwzx"]) == ["sarah"]
    text = pool.recognize(await speech("I would like to book an appointment for tomorrow"), None).text
    # Full vocabulary on telephone audio is poor (hence the grammars); the record still gets it.
    assert text is not None and "tomorrow" in text


async def test_a_spoken_number_is_decoded_without_inserted_digits(recognizer: Recognizer) -> None:
    # The digit loop's search gets a low word insertion penalty (SEARCH_WIP): with the
    # decoder's default, these came out as 13-16 digits ("oh", "eight" inserted).
    for words, digits in [
        ("three one two five five five oh one four seven", "3125550147"),
        ("four one five five five five oh one two three", "4155550123"),
    ]:
        heard = recognizer.recognize(await speech(words), digits_grammar()).text
        assert read_digits(heard) == digits, heard


def test_the_lexicon_reads_every_pronunciation_of_a_word() -> None:
    lexicon = Lexicon(["read R EH D", "read(2) R IY D", "it's IH T S # a comment", "broken"])
    assert lexicon.pronunciations("read") == ("R EH D", "R IY D")
    assert lexicon.pronunciations("it's") == ("IH T S",)
    assert "broken" not in lexicon and lexicon.pronunciations("nothing") == ()


async def test_a_compact_recogniser_knows_only_what_its_searches_use(recognizer: Recognizer) -> None:
    assert not recognizer.full_vocabulary
    with pytest.raises(RecognizerError, match="full-vocabulary"):
        recognizer.recognize(await speech("hello"), None)
    # a need model's words are given to the decoder when the model is added
    model = need_lm(vocabulary(["billing"]))
    assert "refund" in _arpa_words(model) and "<s>" not in _arpa_words(model)
    assert (
        classify(
            recognizer.recognize(await speech("I would like a refund please"), model).text,
            vocabulary(["billing"]),
        ).intent
        == "billing"
    )
    assert recognizer.known_words(["sarah", "qwzx", "mary ann"]) == ["sarah", "mary ann"]
