"""The need turn's understanding (pure): vocabulary, classifier, decision, corpus, LM."""

from __future__ import annotations

import pytest

from callengine.brains.receptionist.understanding import CONFIDENT, classify, decide, need_lm, vocabulary
from callengine.brains.receptionist.understanding.corpus import NEEDS, Split, need_sentences
from callengine.brains.receptionist.understanding.lm import corpus_for

INTENTS = ("appointment", "billing", "sales", "support", "message")
VOCAB = vocabulary(INTENTS)


@pytest.mark.parametrize(
    ("sentence", "intent"),
    [
        ("hello i would like to book an appointment for tomorrow morning please", "appointment"),
        ("i have a question about the invoice you sent me last week", "billing"),
        ("i'd like to get a price for your premium plan", "sales"),
        ("i think i was charged twice i'd like a refund", "billing"),
        ("my account is not working", "support"),
        ("can someone call me back", "message"),
    ],
)
def test_the_issues_sentences_are_understood_with_confidence(sentence: str, intent: str) -> None:
    u = classify(sentence, VOCAB)
    assert u.intent == intent
    assert u.confidence >= CONFIDENT
    assert u.complete


def test_a_negated_need_is_ruled_out() -> None:
    u = classify("it's not about billing, I want to book an appointment", VOCAB)
    assert u.intent == "appointment" and u.ruled_out == ("billing",)
    assert "billing" not in u.needs
    assert classify("not billing", VOCAB).intent is None
    # the negation stops at a new clause: "but" starts a positive one
    assert classify("i don't have a problem but i want a refund", VOCAB).needs == ("billing",)


def test_several_needs_are_all_kept_and_lower_the_confidence() -> None:
    u = classify("i want to book an appointment and also ask about my invoice", VOCAB)
    assert u.intent == "appointment" and u.needs == ("appointment", "billing")
    assert u.runner_up == "billing"
    assert u.confidence < CONFIDENT


def test_a_lone_weak_word_is_not_enough_to_be_sure() -> None:
    u = classify("can you help me", VOCAB)
    assert u.intent == "support" and u.confidence < CONFIDENT and not u.complete


def test_nothing_heard_is_no_intent() -> None:
    for text in (None, "", "hello there"):
        u = classify(text, VOCAB)
        assert u.intent is None and u.confidence == 0.0 and not u.complete


def test_an_unfinished_sentence_is_not_complete() -> None:
    assert classify("i'd like to book an appointment", VOCAB).complete
    assert not classify("i'd like to book an appointment and", VOCAB).complete
    assert not classify("i'd like to book an appointment about the", VOCAB).complete


def test_a_business_own_words_and_menu_labels_name_its_intents() -> None:
    clinic = vocabulary(
        ("appointment", "billing", "new_patients"),
        extra={"appointment": ["cleaning", "Check-up"]},
        labels={"new_patients": "registering as a new patient"},
    )
    assert classify("I'd like a check-up next week", clinic).intent == "appointment"
    assert classify("could you fit me in for a cleaning", clinic).intent == "appointment"
    assert classify("i'm calling about registering as a new patient", clinic).intent == "new_patients"
    assert classify("new patients please", clinic).intent == "new_patients"
    # an intent the business does not offer is not understood
    assert classify("i want to buy the premium plan", clinic).intent is None


def test_a_short_keyword_answer_keeps_the_keyword_grammars_intent() -> None:
    d = decide("sales", classify("sales please", VOCAB))
    assert (d.intent, d.ask) == ("sales", False)
    # the sentence model heard something else in a short answer: still the keyword's, less sure
    d = decide("support", classify("i need a bill", VOCAB))
    assert (d.intent, d.ask) == ("support", False) and d.confidence < CONFIDENT


def test_a_short_answer_with_a_close_rival_is_asked_about_unless_the_sentence_model_agrees() -> None:
    unsure = decide("sales", classify("i your please", VOCAB), rival="message")
    assert (unsure.intent, unsure.ask) == ("sales", True) and unsure.confidence < CONFIDENT
    assert decide("sales", classify("sales please", VOCAB), rival="message").ask is False
    assert decide("sales", classify("i your please", VOCAB), rival="sales").ask is False  # no rival


def test_a_short_turn_is_a_short_answer_whatever_the_sentence_model_made_of_it() -> None:
    # recorded session c20: "i need a quote" (1.2 s) heard by the need model as five words
    garbled = classify("i leave a to oh", VOCAB)
    assert decide("support", garbled).ask is True  # as a sentence: nothing understood, ask
    taken = decide("support", garbled, seconds=1.2)
    assert (taken.intent, taken.ask) == ("support", False)
    assert decide("support", garbled, seconds=2.4).ask is True  # a sentence's length


def test_a_sentence_is_taken_when_both_decodes_agree_and_asked_about_when_they_differ() -> None:
    sentence = classify("hello i would like to book an appointment for tomorrow", VOCAB)
    assert decide("appointment", sentence).ask is False
    assert decide(None, sentence).ask is False
    differ = decide("support", sentence)
    assert (differ.intent, differ.ask) == ("appointment", True)
    unsure = decide(None, classify("hello can you help me with something today", VOCAB))
    assert unsure.ask and unsure.intent == "support"
    nothing = decide(None, classify("hello there how are you doing today", VOCAB))
    assert nothing.intent is None and not nothing.ask


def test_a_negated_keyword_is_not_taken() -> None:
    d = decide("billing", classify("not billing", VOCAB))
    assert d.intent is None


def test_held_out_phrasings_are_not_in_the_train_corpus() -> None:
    train = {s for i in NEEDS for s in need_sentences(i, Split.TRAIN)}
    held = {s for i in NEEDS for s in need_sentences(i, Split.HELD_OUT)}
    assert len(held) >= 200 and not train & held
    assert not held & set(corpus_for(VOCAB))


def test_the_need_model_is_an_arpa_trigram_with_the_business_words() -> None:
    arpa = need_lm(vocabulary(("appointment",), extra={"appointment": ["cleaning"]}))
    assert "\\data\\" in arpa and "ngram 3=" in arpa and arpa.rstrip().endswith("\\end\\")
    unigrams = arpa.split("\\1-grams:")[1].split("\\2-grams:")[0].split()
    assert "cleaning" in unigrams and "<s>" in unigrams and "refund" not in unigrams
    assert need_lm(VOCAB) == need_lm(VOCAB)  # deterministic: the recogniser caches it by content


def test_a_sentence_resting_on_one_word_is_asked_about() -> None:
    # one cue word in a long decode is what the need model most often hallucinates
    d = decide(None, classify("hello there i would like a refund please", VOCAB))
    assert (d.intent, d.ask) == ("billing", True)
    d = decide(None, classify("hello there i would like to get a refund please", VOCAB))
    assert (d.intent, d.ask) == ("billing", True)
    d = decide(None, classify("hello there i would like a refund for my invoice please", VOCAB))
    assert (d.intent, d.ask) == ("billing", False)
