"""The scoring rules the quizzes will apply (documented in trainer/bank/scoring.py)."""
import pytest

from trainer.bank.schema import Option, QuestionData, normalize_answer
from trainer.bank.scoring import score


def multiple(scoring: str, weights=None) -> QuestionData:
    options = [Option("甲", True), Option("乙", True), Option("丙"), Option("丁")]
    for option, weight in zip(options, weights or []):
        option.weight = weight
    return QuestionData("multiple", "多选", "a", options=options, scoring=scoring, points=4)


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [({0, 1}, 4.0), ({0}, 2.0), ({1}, 2.0), ({0, 2}, 0.0), ({0, 1, 2}, 0.0), (set(), 0.0), ({2}, 0.0)],
)
def test_multiple_choice_partial_credit(chosen, expected):
    assert score(multiple("partial"), chosen) == expected


@pytest.mark.parametrize(("chosen", "expected"), [({0, 1}, 4.0), ({0}, 0.0), ({0, 1, 2}, 0.0)])
def test_multiple_choice_all_or_nothing(chosen, expected):
    assert score(multiple("all_or_nothing"), chosen) == expected


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [({0, 1}, 4.0), ({0}, 2.0), ({0, 2}, 0.0), ({0, 1, 2}, 2.0), ({2, 3}, 0.0)],
)
def test_multiple_choice_weighted_without_weights(chosen, expected):
    assert score(multiple("weighted"), chosen) == expected


def test_multiple_choice_weighted_with_gift_weights():
    question = multiple("weighted", [70, 30, -50, -100])
    assert score(question, {0}) == 2.8
    assert score(question, {0, 1}) == 4.0
    assert score(question, {0, 1, 2}) == 2.0
    assert score(question, {1, 3}) == 0.0


def test_single_choice_with_a_partly_right_option():
    question = QuestionData("single", "单选", "a", options=[Option("甲", True), Option("乙", weight=50.0), Option("丙", weight=-100.0)], points=2)
    assert [score(question, i) for i in (0, 1, 2, 7, None)] == [2.0, 1.0, 0.0, 0.0, 0.0]


def test_true_false():
    question = QuestionData("truefalse", "判断", "a", answer=False, points=1)
    assert score(question, False) == 1.0 and score(question, True) == 0.0 and score(question, "false") == 0.0


def test_blanks_ignore_spaces_width_and_case():
    question = QuestionData("blank", "___和___", "a", blanks=[["GDP", "国内生产总值"], ["1，2"]], points=2)
    assert score(question, [" ｇｄｐ ", "1,2"]) == 2.0
    assert score(question, ["国内生产总值", "1、2"]) == 1.0
    assert score(question, ["", ""]) == 0.0
    assert score(question, ["GDP"]) == 1.0  # a missing blank scores nothing


def test_short_answers_are_graded_by_hand():
    assert score(QuestionData("short", "简答", "a", reference_answer="参考"), "作答") is None


def test_normalize_answer():
    assert normalize_answer("　ＡＢＣ　１２３！　") == "abc 123!"
    assert normalize_answer("快  精\t准") == "快 精 准"
