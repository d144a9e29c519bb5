"""The effect-size rule: one word for the size of a difference in standard deviations, at every boundary.

Reference: Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences (2nd ed.), §2.2.3:
d = 0.2 small, 0.5 medium, 0.8 large (the lower bounds of each class). Below 0.2: "nauwelijks".
"""
from __future__ import annotations

import math

import pytest

from oml.report.text import EFFECT_SIZE_RULE, effect_size_rule, effect_size_word, size_phrase, size_words

COHEN = {0.2: "klein", 0.5: "middelgroot", 0.8: "groot"}  # Cohen (1988), see the module docstring


def test_the_rule_is_cohens():
    assert {bound: word for bound, word in EFFECT_SIZE_RULE} == COHEN


@pytest.mark.parametrize("bound,word", sorted(COHEN.items()))
def test_each_boundary_belongs_to_the_class_above_it(bound, word):
    below = {0.2: "nauwelijks", 0.5: "klein", 0.8: "middelgroot"}[bound]
    assert effect_size_word(bound) == word
    assert effect_size_word(-bound) == word  # the sign is the direction, not the size
    assert effect_size_word(bound - 0.01) == below
    assert effect_size_word(bound + 0.01) == word


@pytest.mark.parametrize("value,word", [(0.0, "nauwelijks"), (0.194999, "nauwelijks"), (0.195, "klein"),
                                        (0.4949, "klein"), (0.495, "middelgroot"), (0.795, "groot"), (3.0, "groot")])
def test_the_word_follows_the_number_as_shown(value, word):
    # 0,195 is shown as 0,20: the word must agree with what the reader sees, so it is judged on the rounded value.
    assert effect_size_word(value) == word


def test_the_rounding_can_be_chosen():
    assert effect_size_word(0.15, decimals=1) == "klein"  # shown as 0,2
    assert effect_size_word(0.15, decimals=2) == "nauwelijks"


def test_a_suppressed_difference_has_no_size():
    with pytest.raises(ValueError, match="suppressed"):
        effect_size_word(math.nan)


def test_phrases_inflect_as_dutch_does():
    assert size_phrase(0.3) == "een klein verschil"
    assert size_phrase(0.3, "verandering") == "een kleine verandering"
    assert size_phrase(0.6, "verandering") == "een middelgrote verandering"
    assert size_phrase(0.9) == "een groot verschil"
    assert size_phrase(0.01) == "nauwelijks verschil"
    assert size_words(0.01) == "nauwelijks van betekenis" and size_words(-0.85) == "groot"


def test_the_rule_in_words_names_every_bound_in_dutch_numbers():
    rule = effect_size_rule()
    assert "0,20" in rule and "0,50" in rule and "0,80" in rule and "nauwelijks" in rule and "." not in rule
