"""How an answer scores: the rules the quizzes apply, kept beside the questions.

- single choice: full points for the right option; an option with a GIFT weight gives
  that share of the points (a wrong option's negative weight counts as zero);
- multiple choice, per question:
  - `partial` (default): full points when exactly the right options are chosen, half
    when only right options are chosen but not all of them, otherwise zero;
  - `all_or_nothing`: full points only when exactly right;
  - `weighted` (Moodle's multiple response): the sum of the chosen options' weights,
    floored at zero and capped at full points; an option without a weight is worth
    100% divided among the right options if it is right, and minus 100% divided among
    the wrong options if it is wrong;
- true/false: full points or zero;
- fill in the blank: each blank is worth an equal share; a blank is right when the
  answer matches one of its accepted variants, ignoring surrounding white space, the
  difference between full-width and half-width characters, and letter case;
- short answer: graded by hand (`None`).
"""
from __future__ import annotations

from collections.abc import Sequence

from .schema import QuestionData, blank_is_correct


def _share(points: int, fraction: float) -> float:
    return round(points * max(0.0, min(1.0, fraction)), 2)


def score(question: QuestionData, response: object) -> float | None:
    """Points earned by `response`, or None when a grader must decide.

    Responses: single choice, an option index; multiple choice, a collection of option
    indexes; true/false, a bool; blanks, a list of strings (one per blank).
    """
    kind = question.type
    if kind == "short":
        return None
    if kind == "truefalse":
        return float(question.points) if isinstance(response, bool) and response == question.answer else 0.0
    if kind == "blank":
        given = list(response) if isinstance(response, Sequence) and not isinstance(response, str) else []
        right = sum(
            1 for index, variants in enumerate(question.blanks)
            if index < len(given) and blank_is_correct(str(given[index]), variants)
        )
        return _share(question.points, right / len(question.blanks)) if question.blanks else 0.0
    options = question.options
    if kind == "single":
        if not isinstance(response, int) or isinstance(response, bool) or not 0 <= response < len(options):
            return 0.0
        chosen = options[response]
        if chosen.correct:
            return float(question.points)
        return _share(question.points, (chosen.weight or 0) / 100)
    # multiple
    chosen_indexes = {i for i in response if isinstance(i, int) and 0 <= i < len(options)} if isinstance(response, (set, list, tuple, frozenset)) else set()
    right = {i for i, option in enumerate(options) if option.correct}
    if question.scoring == "weighted":
        wrong_count = len(options) - len(right)
        total = 0.0
        for index in chosen_indexes:
            option = options[index]
            if option.weight is not None:
                total += option.weight
            elif option.correct:
                total += 100 / len(right)
            else:
                total -= 100 / max(wrong_count, 1)
        return _share(question.points, total / 100)
    if chosen_indexes == right:
        return float(question.points)
    if question.scoring == "partial" and chosen_indexes and chosen_indexes < right:
        return _share(question.points, 0.5)
    return 0.0
