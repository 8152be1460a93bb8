"""The trainer's own question files: `format: trainer-questions/1` in YAML or JSON.

Both carry every field; each question is the mapping `QuestionData.to_mapping` writes and
`schema.from_mapping` reads, so this module only deals with the file around them.
"""
from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from typing import Any

import yaml
from flask_babel import gettext as _

from ..schema import Problem, QuestionData, from_mapping
from .base import ParsedQuestion, ParseResult, check_count

FORMAT_TAG = "trainer-questions/1"
_TOP_KEYS = ("format", "category", "lesson", "questions")


class _Mapping(dict):
    """A mapping that remembers the line it starts on."""

    line: int = 1


class _Sequence(list):
    """A list that remembers the line it starts on."""

    line: int = 1


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML whose mappings and lists carry their line numbers."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode):
    data = _Mapping()
    data.line = node.start_mark.line + 1
    yield data
    data.update(loader.construct_mapping(node))


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode):
    data = _Sequence()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def read_yaml(text: str, max_questions: int) -> ParseResult:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return ParseResult()
        alias = _reused_node(node)
        if alias is not None:
            return ParseResult(problems=[Problem(
                _("不支持 YAML 的锚点和别名（& 与 *）：请把被引用的内容直接写在每个用到它的地方。"),
                line=alias.start_mark.line + 1)])
        document = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return ParseResult(problems=[Problem(
            _("YAML 格式有误（第 %(column)d 列）：%(detail)s。请检查缩进、冒号后的空格以及引号是否配对。",
              column=mark.column + 1 if mark else 1, detail=error.problem or error.context or ""),
            line=mark.line + 1 if mark else None)])
    except yaml.reader.ReaderError as error:
        return ParseResult(problems=[Problem(
            _("YAML 文件中有不允许出现的字符（%(detail)s）。", detail=str(error.reason)),
            line=text.count("\n", 0, error.position) + 1)])
    except (yaml.YAMLError, ValueError, RecursionError) as error:
        # Values the safe constructor cannot build (a timestamp like 2024-13-45, an integer
        # with thousands of digits) and nesting deeper than Python's stack allows.
        return ParseResult(problems=[Problem(
            _("YAML 文件无法读取：%(detail)s。", detail=str(error) or type(error).__name__))])
    finally:
        loader.dispose()
    return _read_document(document, max_questions)


def _reused_node(root: yaml.Node) -> yaml.Node | None:
    """The first node reached twice: that is what an alias does.

    Aliases are refused because a few of them nest into an exponentially large document
    (the "billion laughs"), and question files never need them.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return node
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
    return None


class _JSONDecoder(json.JSONDecoder):
    """A decoder whose objects and arrays carry the line they start on."""

    def __init__(self, text: str) -> None:
        super().__init__(object_pairs_hook=_Mapping)
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

        def line_at(index: int) -> int:
            return bisect.bisect_right(line_starts, index)

        def parse_object(s_and_end, *args):
            data, end = json.decoder.JSONObject(s_and_end, *args)
            data.line = line_at(s_and_end[1] - 1)
            return data, end

        def parse_array(s_and_end, scan_once):
            values, end = json.decoder.JSONArray(s_and_end, scan_once)
            data = _Sequence(values)
            data.line = line_at(s_and_end[1] - 1)
            return data, end

        self.parse_object = parse_object
        self.parse_array = parse_array
        # Only the pure-Python scanner looks these hooks up; the C one is built in.
        self.scan_once = json.scanner.py_make_scanner(self)


def read_json(text: str, max_questions: int) -> ParseResult:
    if not text.strip():
        return ParseResult()
    try:
        document = _JSONDecoder(text).decode(text)
    except json.JSONDecodeError as error:
        return ParseResult(problems=[Problem(
            _("JSON 格式有误（第 %(column)d 列）：%(detail)s。请检查括号、逗号和引号是否配对。",
              column=error.colno, detail=error.msg),
            line=error.lineno)])
    except (ValueError, RecursionError) as error:
        # An integer with thousands of digits, or nesting deeper than Python's stack.
        return ParseResult(problems=[Problem(
            _("JSON 文件无法读取：%(detail)s。", detail=str(error) or type(error).__name__))])
    return _read_document(document, max_questions)


def _read_document(document: Any, max_questions: int) -> ParseResult:
    result = ParseResult()
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict):
        items = _read_header(document, result)
    else:
        result.problems.append(Problem(_(
            "文件内容应以“format: %(tag)s”开头，并在“questions:”下列出题目；也可以直接是题目列表。",
            tag=FORMAT_TAG), line=1))
        return result
    check_count(len(items), max_questions)
    for item in items:
        line = getattr(item, "line", getattr(items, "line", 1))
        data, problems = from_mapping(item, line=line)
        if data is None or problems:
            result.problems.extend(problems)
        else:
            result.questions.append(ParsedQuestion(line, data, label=data.idnumber or ""))
    return result


def _read_header(document: dict, result: ParseResult) -> list:
    line = getattr(document, "line", 1)
    for key in document:
        if key not in _TOP_KEYS:
            result.problems.append(Problem(_(
                "文件顶层有未知字段“%(key)s”；顶层只能有 %(keys)s。",
                key=key, keys="、".join(_TOP_KEYS)), line=line))
    tag = document.get("format")
    if tag is not None and str(tag).strip() != FORMAT_TAG:
        result.problems.append(Problem(_(
            "不支持的文件格式“%(value)s”；format 应为 %(tag)s。", value=tag, tag=FORMAT_TAG), line=line))
    for key in ("category", "lesson"):
        value = document.get(key)
        if isinstance(value, (dict, list)):
            result.problems.append(Problem(_(
                "顶层的“%(key)s”应为一段文字，作为没有写 %(key)s 的题目的默认值。", key=key), line=line))
        elif value is not None and str(value).strip():
            result.defaults[key] = str(value).strip()
    items = document.get("questions")
    if items is None:
        result.problems.append(Problem(_("文件中缺少“questions:”，题目应列在它下面。"), line=line))
        return []
    if not isinstance(items, list):
        result.problems.append(Problem(
            _("“questions”应为题目列表，每道题以“- ”开头。"), line=getattr(items, "line", line)))
        return []
    return items


class _FlowMapping(dict):
    """An option short enough to read well on one line, as in `{text: 快, correct: true}`."""


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists; short lists and options inline."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # the reader refuses anchors and aliases


# PyYAML writes these raw in plain and single-quoted scalars, and reads them back as line
# breaks; double quotes escape them.
_YAML_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
_INLINE_WIDTH = 60


def _represent_str(dumper: _Dumper, text: str) -> yaml.ScalarNode:
    style = None
    if _YAML_LINE_BREAKS.search(text):
        style = '"'
    elif "\n" in text:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def _is_short(values: list) -> bool:
    return (all(isinstance(v, (str, int, float)) and "\n" not in str(v) for v in values)
            and sum(len(str(v)) for v in values) <= _INLINE_WIDTH)


def _represent_list(dumper: _Dumper, items: list) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=_is_short(items))


def _represent_flow_mapping(dumper: _Dumper, mapping: _FlowMapping) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", mapping.items(), flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_FlowMapping, _represent_flow_mapping)


def write_yaml(questions: list[QuestionData]) -> bytes:
    mappings = []
    for question in questions:
        mapping = question.to_mapping()
        if "options" in mapping:
            mapping["options"] = [
                _FlowMapping(o) if _is_short(list(o.values())) else o for o in mapping["options"]]
        mappings.append(mapping)
    document = {"format": FORMAT_TAG, "questions": mappings}
    text = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096)
    return text.encode("utf-8")
