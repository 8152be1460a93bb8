"""Hypothesis strategies for valid questions of every type, with awkward text."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from trainer.bank.schema import (
    SCORING_SCHEMES,
    STATUSES,
    Option,
    QuestionData,
    validate,
)

# Quick enough for every run of the suite, and no example database in the work tree.
# Derandomized so a run of CI is repeatable; set TRAINER_HYPOTHESIS_EXAMPLES to
# search afresh with that many random examples (see README, "How the tests work").
_EXAMPLES = os.environ.get("TRAINER_HYPOTHESIS_EXAMPLES")
FAST = settings(max_examples=int(_EXAMPLES or 80), derandomize=not _EXAMPLES, deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# Characters with a meaning in one format or another, and Chinese text.
SYNTAX = "\\~=#{}:%[]|/->_'\"!*&`$@?,;，、；：。“”（）\t"
_CHARS = st.one_of(
    st.sampled_from(SYNTAX),
    st.sampled_from("政务信息写作快精准题干选项答案解析ＡＢ１２"),
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")),
)


def text(max_size: int = 24, exclude: str = "") -> st.SearchStrategy[str]:
    """One line of text with something visible in it."""
    alphabet = _CHARS.filter(lambda c: c not in exclude) if exclude else _CHARS
    return st.text(alphabet, min_size=1, max_size=max_size).filter(str.strip)


def multiline(max_size: int = 24) -> st.SearchStrategy[str]:
    return st.lists(text(max_size), min_size=1, max_size=3).map("\n".join)


def optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


def _hundredths(low: int, high: int) -> st.SearchStrategy[float]:
    return st.integers(low * 100, high * 100).map(lambda n: n / 100)


# Weights as GIFT can express them: a right option's weight is positive (100 in a single
# choice); a wrong option's is not, except for partial credit in a single choice.
_RIGHT_WEIGHT = {"single": st.sampled_from([None, 100.0]),
                 "multiple": st.one_of(st.none(), _hundredths(0, 100).filter(bool))}
_WRONG_WEIGHT = {"single": st.one_of(st.none(), _hundredths(-100, 99)),
                 "multiple": st.one_of(st.none(), _hundredths(-100, 0))}


@st.composite
def _options(draw, qtype: str) -> list[Option]:
    texts = draw(st.lists(text(16), min_size=2, max_size=8, unique_by=str.strip))
    if qtype == "single":
        right = {draw(st.integers(0, len(texts) - 1))}
    else:
        right = set(draw(st.lists(st.integers(0, len(texts) - 1), min_size=1, unique=True)))
    return [
        Option(t, i in right, draw(_RIGHT_WEIGHT[qtype] if i in right else _WRONG_WEIGHT[qtype]), draw(optional(text())))
        for i, t in enumerate(texts)
    ]


@st.composite
def _blank_stem(draw, count: int) -> str:
    """A stem with exactly `count` blank marks, and no other underscores."""
    segments = [draw(optional(text(exclude="_")))]
    for _ in range(count):
        segments.append("_" * draw(st.integers(3, 5)))
        segments.append(draw(text(exclude="_")))
    return "".join(segments)


@st.composite
def questions(draw, qtype: str | None = None) -> QuestionData:
    qtype = qtype or draw(st.sampled_from(["single", "multiple", "truefalse", "blank", "short"]))
    data = QuestionData(
        type=qtype,
        stem=draw(multiline(40)),
        category=draw(optional(st.lists(text(10, exclude="/\n"), min_size=1, max_size=3).map("/".join))),
        idnumber=draw(st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_.:\-]{1,20}", fullmatch=True))),
        explanation=draw(optional(multiline())),
        difficulty=draw(st.integers(1, 5)),
        points=draw(st.integers(1, 100)),
        tags=draw(st.lists(text(12, exclude=",，、;；\n"), max_size=3)),
        lesson=draw(st.one_of(st.none(), st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}/[a-z0-9][a-z0-9-]{0,8}", fullmatch=True))),
        status=draw(st.sampled_from(STATUSES)),
        exclusion_group=draw(st.one_of(st.none(), text(20, exclude="\n"))),
    )
    if qtype in ("single", "multiple"):
        data.options = draw(_options(qtype))
        if qtype == "multiple":
            data.scoring = draw(st.sampled_from(SCORING_SCHEMES))
    elif qtype == "truefalse":
        data.answer = draw(st.booleans())
        data.feedback_true = draw(optional(multiline()))
        data.feedback_false = draw(optional(multiline()))
    elif qtype == "blank":
        data.blanks = draw(st.lists(st.lists(text(12, exclude="\n"), min_size=1, max_size=3), min_size=1, max_size=3))
        data.stem = draw(_blank_stem(len(data.blanks)))
    else:
        data.reference_answer = draw(multiline(40))
        data.scoring_points = draw(st.lists(text(20, exclude="\n"), max_size=3))
    problems = validate(data)
    assert not problems, problems
    return data


question_lists = st.lists(questions(), min_size=1, max_size=6)
