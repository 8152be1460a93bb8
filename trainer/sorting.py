"""Sorting as Chinese readers expect: 第二期 before 第十期, 李 before 王 (by pinyin), 2 before 10.

`sort_key(text)` is an ASCII string whose plain code-point order is that order, so it can
be stored in a column and used by ORDER BY on both databases (the columns use the "C"
collation on PostgreSQL, and SQLite compares bytes), or used by Python's `sorted`.

Each piece of the text becomes one self-delimiting element:
- a number (Arabic digits, or Chinese numerals in a counting context such as 第十二期):
  "1", a letter giving the number of digits, the digits — so 2 < 10 < 100;
- a Latin letter: "2" and the letter in lower case;
- a Chinese character: "3", its pinyin in lower case and its tone digit, which also ends
  the element ("zha1" < "zhang1");
- anything else (punctuation, spaces) is left out of the key.
Ties (同音字 such as 张 and 章) are broken by the caller's next ORDER BY column.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib.util import find_spec
from pathlib import Path

# How the first character of a person's name is read when it is a surname: the
# dictionary's first reading is the common word's (曾经 céng, 单独 dān).
_SURNAME_READINGS = {
    "曾": "zeng1", "单": "shan4", "解": "xie4", "区": "ou1", "仇": "qiu2", "查": "zha1", "朴": "piao2",
    "覃": "qin2", "翟": "zhai2", "乐": "yue4", "盖": "ge3", "缪": "miao4", "尉": "yu4", "重": "chong2",
    "长": "chang2", "沈": "shen3", "柏": "bai3", "秘": "bi4", "种": "chong2", "繁": "po2", "员": "yun4",
}
_DIGITS = "零〇一二两三四五六七八九"
_DIGIT_VALUES = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000}
_NUMERAL_RUN = f"[{_DIGITS}十百千万]+"
# Chinese numerals count only where they are numbers: after 第, or before a counter
# (第三期, 三季度, 十二月); 一把手 and 三个理念 keep their characters.
_CHINESE_NUMBER = re.compile(rf"(?<=第){_NUMERAL_RUN}|{_NUMERAL_RUN}(?=[期批届班级季月年组号讲课章节部分])")
_TONE_MARKS = {
    "ā": ("a", 1), "á": ("a", 2), "ǎ": ("a", 3), "à": ("a", 4),
    "ē": ("e", 1), "é": ("e", 2), "ě": ("e", 3), "è": ("e", 4),
    "ī": ("i", 1), "í": ("i", 2), "ǐ": ("i", 3), "ì": ("i", 4),
    "ō": ("o", 1), "ó": ("o", 2), "ǒ": ("o", 3), "ò": ("o", 4),
    "ū": ("u", 1), "ú": ("u", 2), "ǔ": ("u", 3), "ù": ("u", 4),
    "ǖ": ("v", 1), "ǘ": ("v", 2), "ǚ": ("v", 3), "ǜ": ("v", 4), "ü": ("v", 5),
    "ń": ("n", 2), "ň": ("n", 3), "ǹ": ("n", 4), "ḿ": ("m", 2),
}


@cache
def _readings() -> dict[int, str]:
    """Code point -> first pinyin reading, e.g. "zhang1", from pypinyin's data file.

    Only the single-character table is read (about 5 MB in memory); importing pypinyin
    itself would load its phrase dictionary too, ten times that, for nothing here.
    """
    spec = find_spec("pypinyin")
    assert spec is not None and spec.submodule_search_locations, "pypinyin is a dependency"
    path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    return {int(code): _numbered(marked.split(",")[0]) for code, marked in table.items()}


def _numbered(marked: str) -> str:
    """"zhāng" -> "zhang1"; a toneless (neutral) reading gets 5."""
    letters, tone = [], 5
    for char in marked:
        plain = _TONE_MARKS.get(char)
        if plain:
            letters.append(plain[0])
            tone = plain[1] if plain[1] != 5 else tone
        else:
            letters.append(char)
    return "".join(letters) + str(tone)


def chinese_number(text: str) -> int | None:
    """十二 -> 12, 一百零五 -> 105, 二〇二六 -> 2026; None when it is not a number."""
    if all(char in _DIGIT_VALUES for char in text):
        return int("".join(str(_DIGIT_VALUES[char]) for char in text))
    total, section, digit = 0, 0, None
    for char in text:
        if char in _DIGIT_VALUES:
            digit = _DIGIT_VALUES[char]
        elif char in _UNITS:
            unit = _UNITS[char]
            if unit == 10_000:
                total += (section + (digit or 0)) * unit
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit = None
        else:
            return None
    return total + section + (digit or 0)


def _number_element(value: int) -> str:
    digits = str(value)
    return "1" + chr(ord("a") + min(len(digits), 25)) + digits


def sort_key(text: str | None, person: bool = False) -> str:
    """The sort key of `text`; `person` reads the first character as a surname."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    text = _CHINESE_NUMBER.sub(
        lambda m: str(number) if (number := chinese_number(m.group())) is not None else m.group(), text
    )
    readings = _readings()
    parts: list[str] = []
    for index, run in enumerate(re.finditer(r"\d+|.", text, re.DOTALL)):
        piece = run.group()
        if piece.isdigit():
            parts.append(_number_element(int(piece)))
        elif piece.isascii() and piece.isalpha():
            parts.append("2" + piece.lower())
        elif person and index == 0 and piece in _SURNAME_READINGS:
            parts.append("3" + _SURNAME_READINGS[piece])
        elif ord(piece) in readings:
            parts.append("3" + readings[ord(piece)])
        elif piece.isalnum():
            # Letters of other scripts: after Chinese, in code-point order, kept ASCII.
            parts.append("4" + format(ord(piece), "06x"))
    return "".join(parts)


def sorted_naturally(items, key=lambda item: item, person: bool = False):
    """`items` ordered by `sort_key` of `key(item)`, then by the text itself."""
    return sorted(items, key=lambda item: (sort_key(key(item), person), key(item) or ""))
