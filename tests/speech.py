"""What the content tests share: the course's copy of the speech, and how to tell a
quotation of it from the course's own words in quotation marks."""
from __future__ import annotations

import re

from trainer.extensions import PROJECT_ROOT

SPEECH = PROJECT_ROOT / "lessons" / "gov-info-writing" / "training-speech.txt"

# The course's own phrases that happen to be made of the speech's words: examples of an
# information item's 套话 (lesson 11 sets them beside the speech's own wording) and a label.
COURSE_PHRASES = {
    "以高度的政治责任感和使命感",
    "推动工作再上新台阶",
    "下一步，我们将以高度的政治责任感和使命感，推动各项工作再上新台阶。",
    "六个还需增强",
}


def speech_text() -> str:
    return SPEECH.read_text(encoding="utf-8")


def _speech_share(text: str, speech: str) -> float:
    """How much of `text` is made of runs of three or more characters found in the speech."""
    covered = [False] * len(text)
    for start in range(len(text)):
        for end in range(len(text), start + 2, -1):
            if text[start:end] in speech:
                covered[start:end] = [True] * (end - start)
                break
    return sum(covered) / len(text)


def holds_the_speech(quoted: str, speech: str) -> bool:
    """Whether words in quotation marks read as a quotation of the speech: six characters
    or more, mostly the speech's own (so short terms such as “四快” are not)."""
    words = re.sub(r"[\W_]", "", quoted)
    return len(words) >= 6 and quoted not in COURSE_PHRASES and _speech_share(quoted, speech) >= 0.6
