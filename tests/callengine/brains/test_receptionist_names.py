"""The receptionist's first-name question: carrier sentences, spell-back, spelling, skipping.

Issue #15: the name was wrong about half the time for callers who answer "my name is Sarah",
and a refused name must never be stored.
"""

from __future__ import annotations

import random
import shutil

import pytest

from callengine.audio.mulaw import ulaw_to_pcm
from callengine.brains.receptionist.asr import Recognizer
from callengine.brains.receptionist.dialogue import Dialogue, HangUpAction, SayAction
from callengine.brains.receptionist.grammars import (
    COMMON_NAMES,
    name_grammar,
    read_name,
    read_spelling,
    read_yes_no,
    spelling_grammar,
)
from callengine.brains.receptionist.setup import parse_setup
from callengine.brains.receptionist.tts import ClipBank, Voice

CALLER = "+15551230000"
NAMES = ("sarah", "sara", "mark", "david", "anna")


def texts(actions: list[SayAction | HangUpAction]) -> str:
    return " ".join(a.text for a in actions if isinstance(a, SayAction))


def at_name(**kwargs: int) -> Dialogue:
    """A dialogue that has just asked for the first name (need given by key 1)."""
    d = Dialogue(parse_setup(None, caller=CALLER), names=NAMES, **kwargs)
    d.start()
    assert "first name" in texts(d.pressed("1"))
    return d


def state_of(d: Dialogue) -> str:  # a call, so mypy does not narrow across steps
    return d.state.value


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hyp",
    ["sarah", "my name is sarah", "this is sarah", "it's sarah", "i'm sarah", "sarah here",
     "yes it's sarah", "uh hi my name's sarah", "hello sarah speaking", "it is sarah"],
)  # fmt: skip
def test_read_name_takes_the_name_out_of_its_carrier(hyp: str) -> None:
    assert read_name(hyp, NAMES) == "Sarah"


def test_read_name_finds_nothing_without_a_known_name() -> None:
    assert read_name("my name is", NAMES) is None
    assert read_name(None, NAMES) is None
    assert read_name("it is sarah", ["mark"]) is None  # a refused name is no longer a choice


def test_read_spelling_accepts_only_a_whole_known_name() -> None:
    assert read_spelling("s a r a h", NAMES) == "Sarah"
    assert read_spelling("s a r", NAMES) is None
    assert read_spelling("s a r a h", ["mark"]) is None
    assert read_spelling(None, NAMES) is None


def test_grammars_carry_the_carriers_and_the_spelled_names() -> None:
    sentence = name_grammar(NAMES)
    assert "my name is" in sentence and "here" in sentence
    assert "my name is" not in name_grammar(NAMES, sentence=False)
    assert "s a r a h | s a r a | m a r k" in spelling_grammar(NAMES)
    with pytest.raises(ValueError):
        spelling_grammar([])


def test_a_first_name_turn_without_a_name_is_decoded_again_as_a_bare_name() -> None:
    d = at_name()
    assert d.second_pass_grammar("hello it") == name_grammar(NAMES, sentence=False)
    assert d.second_pass_grammar("my name is mark") is None
    d.heard(None)  # asked again: the bare-name grammar already
    assert d.second_pass_grammar("hello it") is None


# --- the dialogue's paths --------------------------------------------------------------------


def test_accept_first_time() -> None:
    d = at_name()
    assert d.name_sentence
    assert "I heard Sarah, S, A, R, A, H" in texts(d.heard("hi my name is sarah"))
    assert "Call you back" in texts(d.heard("yes"))
    assert d.lead.name == "Sarah" and d.lead.name_confirmed and d.lead.rejected_names == []


def test_refused_then_spelled_then_accepted() -> None:
    d = at_name()
    d.heard("it's sara")
    assert "spell your first name" in texts(d.heard("no"))
    assert d.expect.value == "spelling" and d.lead.name is None
    assert "S, A, R, A, H" in texts(d.heard("s a r a h"))
    assert "Call you back" in texts(d.heard("yeah"))
    assert d.lead.name == "Sarah" and d.lead.rejected_names == ["sara"]


@pytest.mark.parametrize("skip", ["pound", "silence"])
def test_refused_then_skipped_keeps_the_number_flow(skip: str) -> None:
    d = at_name()
    d.heard("mark")
    d.pressed("2")  # 2 = no on the spell-back
    assert state_of(d) == "spell_name"
    actions = d.pressed("#") if skip == "pound" else d.silence()
    assert "Call you back at 5 5 5" in texts(actions)
    assert d.lead.name is None and d.lead.rejected_names == ["mark"]
    assert isinstance(d.heard("yes")[-1], HangUpAction)
    assert d.lead.callback_number == CALLER and d.lead.name is None


def test_refused_repeatedly_stores_no_name() -> None:
    d = at_name(max_retries=2)
    d.heard("this is mark")
    d.heard("no")
    d.heard("d a v i d")
    assert "spell it again" in texts(d.heard("nope"))
    d.heard("a n n a")
    assert "Call you back" in texts(d.heard("no that's wrong"))
    assert d.lead.name is None and d.lead.rejected_names == ["mark", "david", "anna"]


def test_name_not_understood_leads_to_spelling_then_gives_up() -> None:
    d = at_name(max_retries=1)
    assert "didn't catch" in texts(d.heard(None))
    assert not d.name_sentence  # asked again: just the name
    assert "spell your first name" in texts(d.heard("mumble"))
    d.heard(None)
    assert "Call you back" in texts(d.heard("x y"))
    assert d.lead.name is None


def test_silence_on_the_name_question_warns_and_re_asks() -> None:
    d = at_name(max_silences=1)
    assert "first name" in texts(d.silence())
    assert isinstance(d.silence()[-1], HangUpAction)
    assert d.lead.name is None


def test_an_unclear_answer_to_the_spell_back_is_not_a_yes() -> None:
    d = at_name(max_retries=1)
    d.heard("sarah")
    d.heard(None)
    d.heard("mumble")  # never understood: as good as a no
    assert d.lead.name is None and d.lead.rejected_names == ["sarah"]


def test_pound_skips_the_name_question_itself() -> None:
    d = at_name()
    assert "Call you back" in texts(d.pressed("#"))
    assert d.lead.name is None


def test_keypad_answers_the_spelling_spell_back() -> None:
    d = at_name()
    d.heard("sarah")
    d.pressed("2")
    d.heard("s a r a")
    d.pressed("1")
    assert d.lead.name == "Sara"


def test_sure_is_not_a_yes() -> None:
    # "no" was heard as "sure" on a noisy line and stored the refused name (bench.name_accuracy).
    assert read_yes_no("sure") is None


def test_clips_cover_the_spelling_prompts() -> None:
    d = at_name()
    said = [d.heard("sarah"), d.heard("no"), d.heard("m a r k"), d.heard("no")]
    bank = ClipBank()
    for actions in said:
        assert bank.render(texts(actions))
    assert bank.missing_words == 2  # "Sarah" and "Mark": names are spelled, not said, from clips


# --- no path stores a refused name -------------------------------------------------------------

HEARD = (None, "yes", "yeah", "no", "nope", "sarah", "my name is sarah", "it's mark", "mark here",
         "s a r a h", "m a r k", "d a v i d", "david", "mumble", "five five five one two three four")  # fmt: skip
KEYS = ("1", "2", "#", "*", "0", "5")


@pytest.mark.parametrize("seed", range(300))
def test_no_sequence_of_answers_stores_a_refused_name(seed: int) -> None:
    rng = random.Random(seed)
    d = Dialogue(parse_setup(None, caller=CALLER if seed % 2 else ""), names=NAMES,
                 max_retries=rng.choice((1, 2, 3)), max_silences=rng.choice((1, 2)))  # fmt: skip
    d.start()
    refused: set[str] = set()
    confirmed: str | None = None
    for _ in range(40):
        if d.ended:
            break
        candidate = d.candidate if d.state.value in ("confirm_name", "confirm_spelling") else None
        move = rng.random()
        if move < 0.55:
            text = rng.choice(HEARD)
            d.heard(text)
            answer = read_yes_no(text)
        elif move < 0.9:
            key = rng.choice(KEYS)
            d.pressed(key)
            answer = {"1": True, "2": False}.get(key)
        else:
            d.silence()
            answer = None
        if candidate is not None:
            if answer is True:
                confirmed = candidate
            elif answer is False:
                refused.add(candidate)
    lead = d.lead
    assert lead.name is None or (lead.name == confirmed and lead.name_confirmed)
    assert lead.name not in refused
    assert {n.capitalize() for n in lead.rejected_names} >= refused


# --- real audio ------------------------------------------------------------------------------

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer(size=1)


async def speech(text: str) -> bytes:
    quiet = b"\x00\x00" * 1600
    return quiet + ulaw_to_pcm(await Voice().render(text)) + quiet


@needs_espeak
@pytest.mark.parametrize("said", ["my name is david", "this is david", "david here"])
async def test_a_name_in_a_carrier_sentence_is_recognised(recognizer: Recognizer, said: str) -> None:
    names = list(dict.fromkeys(COMMON_NAMES))
    heard = recognizer.recognize(await speech(said), name_grammar(names))
    assert read_name(heard.text, names) == "David", heard.text


@needs_espeak
async def test_a_spelled_name_is_recognised(recognizer: Recognizer) -> None:
    names = list(dict.fromkeys(COMMON_NAMES))
    heard = recognizer.recognize(await speech("d, a, v, i, d"), spelling_grammar(names))
    assert read_spelling(heard.text, names) == "David", heard.text


@needs_espeak
async def test_a_misheard_name_is_refused_then_spelled_on_real_audio(recognizer: Recognizer) -> None:
    # The agent's own voice saying "yes it's jessica" is heard as "jacob" (a first try gone
    # wrong, as for half the sentence callers); the caller refuses and spells it.
    names = tuple(dict.fromkeys(COMMON_NAMES))
    d = Dialogue(parse_setup(None, caller=CALLER), names=names)
    d.start()
    d.pressed("2")
    said = {"name": "yes it's jessica", "spelling": "j, e, s, s, i, c, a"}
    for _ in range(6):
        if d.state.value in ("number", "done"):
            break
        expect = d.expect.value
        if expect == "yes_no":
            text = "yes" if d.candidate == "Jessica" else "no"
        else:
            text = said[expect]
        heard = recognizer.recognize(await speech(text), d.grammar())
        again = d.second_pass_grammar(heard.text)
        if again is not None:
            heard = recognizer.recognize(await speech(text), again)
        d.heard(heard.text)
    assert d.lead.name == "Jessica" and d.lead.name_confirmed
    # The spelling path was taken (if the first try is ever right, pick a sentence it is not).
    assert d.lead.rejected_names and "jessica" not in d.lead.rejected_names
