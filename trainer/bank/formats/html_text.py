"""HTML text (Moodle's HTML format) turned into the bank's Markdown, with the standard library only.

The bank's renderer escapes raw HTML, so HTML from another system has to become Markdown
on import. What survives: paragraphs, line breaks, lists, bold, italic, inline code,
http(s) and relative links, and the alt text of images; every other tag is dropped with
its text kept (the content of `<script>` and `<style>` is dropped too). Text that was
literal in the HTML stays literal: the characters Markdown would read as markup are
escaped with a backslash. Runs of three or more underscores are left alone, since they
are the bank's blank marks.
"""
from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote

__all__ = ["html_to_markdown", "html_to_plain"]

_PARAGRAPH_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "caption", "section", "article",
    "header", "footer", "aside", "nav", "main", "figure", "figcaption", "address", "center", "dl", "form",
    "fieldset", "details", "hr",
})
_LINE_TAGS = frozenset({"tr", "dt", "dd", "summary"})
_CELL_TAGS = frozenset({"td", "th"})
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template"})
_VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
})
_EMPHASIS = {"strong": "**", "b": "**", "em": "*", "i": "*"}

_WHITESPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's white space: not U+3000 and other Unicode spaces
# Literal text Markdown would read as markup. Runs of 3+ underscores are blank marks and
# stay; `<` only starts an autolink before a letter, `&` only an entity before `name;`.
_MARKUP = re.compile(r"[\\`*\[\]|]|(?<!_)_{1,2}(?!_)|~{2,}|<(?=[A-Za-z])|&(?=#?[A-Za-z0-9]+;)")
_LIST_NUMBER = re.compile(r"\d{1,9}(?=[.)](?:\s|$))")
_LINE_MARKUP = re.compile(r"#{1,6}(?:\s|$)|>|[-+=](?:\s|$|[-+=])")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL = "".join(map(chr, range(33)))


def html_to_markdown(html: str) -> str:
    """HTML as the bank's Markdown: blocks become paragraphs and lines, inline markup
    Markdown's, other tags their text; surrounding white space trimmed."""
    return _Converter(markdown=True).convert(html)


def html_to_plain(html: str) -> str:
    """HTML as one line of plain text (tags dropped, entities decoded, white space
    collapsed), for answers that are compared with what a trainee types."""
    return _Converter(markdown=False).convert(html)


class _Mark:
    """Markdown markup placed in a line (`**`, `[`, `](url)`), kept apart from text until
    the line is finished."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Code:
    """A code span: its text is not escaped, and it starts and ends with backticks."""

    __slots__ = ("content", "text")

    def __init__(self, content: str) -> None:
        longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
        fence = "`" * (longest + 1)
        padding = " " if content.startswith("`") or content.endswith("`") else ""
        self.content = content
        self.text = fence + padding + content + padding + fence


@dataclass
class _Pair:
    opener: _Mark
    closer: _Mark
    emphasis: bool  # bold or italic, as opposed to a link


@dataclass
class _Inline:
    tag: str
    opener: str  # "" for an element that adds no markup (a nested <b>, a link we drop)
    closer: str
    emphasis: bool
    mark: _Mark | None = None  # its opener in the current line, once content followed it


@dataclass
class _List:
    ordered: bool
    indent: str  # the indent of the lines around the list
    items: int = 0  # items written so far: an empty <li> is no item


class _Converter(HTMLParser):
    def __init__(self, *, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.markdown = markdown
        self.lines: list[str] = []
        self.tokens: list[str | _Mark | _Code] | None = None  # the line being written; None before any content
        self.pairs: list[_Pair] = []
        self.prefix = ""  # written before the current line: a list marker or indent
        self.pending = 0  # a break before the next content: 1 a line, 2 a paragraph
        self.space = False  # white space before the next content on the same line
        self.buffer: list[str] = []  # text not yet written: runs up to the next tag that matters
        self.inline: list[_Inline] = []
        self.lists: list[_List] = []
        self.item: str | None = None  # a list item's marker, waiting for the item's content
        self.item_list: _List | None = None  # the list of that item
        self.indent = ""  # the indent that keeps a line inside the current list item
        self.code: list[str] | None = None
        self.code_depth = 0
        self.pre = 0
        self.skip = 0

    def convert(self, html: str) -> str:
        self.feed(html)
        self.close()
        self.flush()
        if self.code is not None:
            self.end_code()
        if self.tokens is not None:
            self.close_inline()
            self.finish_line()
        if self.markdown:
            return re.sub(r"\n{3,}", "\n\n", "\n".join(self.lines)).strip()
        return " ".join(line for line in self.lines if line)

    # ------------------------------------------------------------ parser events

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.code is not None:
            self.code.append(data)
        else:
            self.buffer.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip += 1
        if self.skip:
            return
        attributes = {name: value or "" for name, value in attrs}
        if tag == "img":
            alt = attributes.get("alt", "")
            if self.code is not None:
                self.code.append(alt)
            else:
                self.buffer.append(alt)
            return
        if self.code is not None:
            if tag == "code":
                self.code_depth += 1
            elif tag == "br" or tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS or tag == "li":
                self.code.append(" ")
            return
        if tag == "code" and self.markdown and not self.pre:
            self.flush()
            self.code, self.code_depth = [], 1
        elif tag in _EMPHASIS and self.markdown:
            self.flush()
            nested = any(entry.opener == _EMPHASIS[tag] for entry in self.inline)
            marker = "" if nested else _EMPHASIS[tag]
            self.inline.append(_Inline(tag, marker, marker, emphasis=True))
        elif tag == "a" and self.markdown:
            self.flush()
            target = None if any(entry.tag == "a" for entry in self.inline) else _link_target(attributes.get("href"))
            opener, closer = ("[", f"]({target})") if target else ("", "")
            self.inline.append(_Inline(tag, opener, closer, emphasis=False))
        elif tag == "br":
            self.flush()
            self.line_break(2 if self.pending else 1)
        elif tag in ("ul", "ol"):
            self.flush()
            self.line_break(1 if self.lists else 2)
            self.lists.append(_List(tag == "ol", self.indent))
        elif tag == "li":
            self.flush()
            self.start_item()
        elif tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS:
            self.flush()
            self.line_break(2 if tag in _PARAGRAPH_TAGS else 1)
            if tag == "pre":
                self.pre += 1
        elif tag in _CELL_TAGS:
            self.buffer.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if self.code is not None:
            if tag == "code":
                self.code_depth -= 1
                if not self.code_depth:
                    self.end_code()
            return
        if tag in _EMPHASIS or tag == "a":
            if any(entry.tag == tag for entry in self.inline):
                self.flush()
                while self.inline:
                    entry = self.inline.pop()
                    self.close_entry(entry)
                    if entry.tag == tag:
                        break
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.item, self.item_list = None, None
                self.indent = self.lists.pop().indent
            self.line_break(2)
        elif tag in _PARAGRAPH_TAGS or tag in _LINE_TAGS:
            self.flush()
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self.line_break(2 if tag in _PARAGRAPH_TAGS else 1)
        elif tag in _CELL_TAGS:
            self.buffer.append(" ")

    # ------------------------------------------------------------ writing

    def flush(self) -> None:
        """Write the text gathered since the last tag that matters, as one run, so that
        escaping sees `<`, `&` and underscores together with what follows them."""
        if not self.buffer:
            return
        data = "".join(self.buffer).replace("\xa0", " ")
        self.buffer = []
        if not self.pre:
            self.text(data)
            return
        for number, part in enumerate(data.split("\n")):
            if number:
                self.line_break(1)
            self.text(part)

    def text(self, data: str) -> None:
        core = _WHITESPACE.sub(" ", data).strip(" ")
        if self.tokens is None or self.pending:
            core = core.lstrip()  # no line starts with white space, not even U+3000
        if not core:
            self.space = self.space or bool(data)
            return
        if data[0] in " \t\n\r\f":
            self.space = True
        self.open_content()
        assert self.tokens is not None
        self.tokens.append(_MARKUP.sub(_backslashed, core) if self.markdown else core)
        if data[-1] in " \t\n\r\f":
            self.space = True

    def open_content(self) -> None:
        """Get the current line ready for content: the pending break or space, then the
        markup of the inline elements still open."""
        if self.tokens is not None and not self.pending:
            if self.space:
                self.tokens.append(" ")
        else:
            if self.tokens is not None:
                self.finish_line()
                if self.pending == 2:
                    self.lines.append("")
            self.tokens, self.pairs = [], []
            self.prefix, self.item = (self.item, None) if self.item is not None else (self.indent, None)
            if self.item_list is not None:
                self.item_list.items += 1
                self.item_list = None
        self.pending, self.space = 0, False
        for entry in self.inline:
            if entry.opener and entry.mark is None:
                entry.mark = _Mark(entry.opener)
                self.tokens.append(entry.mark)

    def line_break(self, level: int) -> None:
        # A list item's first content goes on the line of its marker, whatever blocks open it.
        if self.tokens is None or self.item is not None:
            return
        self.close_inline()
        self.pending, self.space = max(self.pending, level), False

    def close_entry(self, entry: _Inline) -> None:
        if entry.mark is not None and self.tokens is not None:
            closer = _Mark(entry.closer)
            self.tokens.append(closer)
            self.pairs.append(_Pair(entry.mark, closer, entry.emphasis))
        entry.mark = None

    def close_inline(self) -> None:
        """Close the open inline markup at the end of a line; it opens again on the next."""
        for entry in reversed(self.inline):
            self.close_entry(entry)

    def start_item(self) -> None:
        if not self.lists:  # an <li> outside any list starts one
            self.line_break(2)
            self.lists.append(_List(False, self.indent))
        current = self.lists[-1]
        if self.tokens is not None:
            self.close_inline()
            # The items of a list are lines, whatever paragraphs their content ended with.
            self.pending = 1 if current.items else max(self.pending, 1)
        marker = (f"{current.items + 1}. " if current.ordered else "- ") if self.markdown else ""
        self.item, self.item_list = current.indent + marker, current
        self.indent = current.indent + " " * len(marker)

    def end_code(self) -> None:
        data = "".join(self.code or [])
        self.code, self.code_depth = None, 0
        core = _WHITESPACE.sub(" ", data).strip(" ")
        if not core:
            self.space = self.space or bool(data)
            return
        if data[0] in " \t\n\r\f":
            self.space = True
        self.open_content()
        assert self.tokens is not None
        if self.tokens and isinstance(self.tokens[-1], _Code):  # `a``b` would be one span of a``b
            self.tokens[-1] = _Code(self.tokens[-1].content + core)
        else:
            self.tokens.append(_Code(core))
        if data[-1] in " \t\n\r\f":
            self.space = True

    def finish_line(self) -> None:
        assert self.tokens is not None
        if self.markdown:
            # Markup never starts with a character that _escape_line_start escapes.
            text = _escape_line_start(_resolve(self.tokens, self.pairs).strip())
        else:
            text = "".join(token for token in self.tokens if isinstance(token, str)).strip()
        self.lines.append(self.prefix + text)
        self.tokens, self.pairs = None, []


def _backslashed(match: re.Match[str]) -> str:
    return "".join("\\" + char for char in match.group())


def _escape_line_start(line: str) -> str:
    """A line that starts with literal text Markdown would take for a heading, quote,
    list item or underline, made literal."""
    number = _LIST_NUMBER.match(line)
    if number:
        return line[:number.end()] + "\\" + line[number.end():]
    return "\\" + line if _LINE_MARKUP.match(line) else line


def _link_target(href: str | None) -> str | None:
    """The Markdown link destination for an http(s) or relative href; None for any other
    scheme (javascript:, mailto:, data:) and for Moodle's own file references."""
    if not href:
        return None
    href = re.sub(r"[\t\n\r]", "", href.strip(_CONTROL))
    scheme = _SCHEME.match(href)
    if not href or "@@PLUGINFILE@@" in href or (scheme and scheme.group(1).lower() not in ("http", "https")):
        return None
    target = "".join(
        quote(char) if char in " <>\\" or ord(char) < 32 or ord(char) == 127 else "\\" + char if char in "()" else char
        for char in href
    )
    return re.sub(r"&(?=#?[A-Za-z0-9]+;)", r"\\&", target)


def _is_punctuation(char: str) -> bool:
    """Punctuation or white space to CommonMark (as markdown-it sees them, and symbols too)."""
    return char in string.punctuation or char.isspace() or unicodedata.category(char)[0] in "PS"


def _leading_punctuation(text: str) -> int:
    """How many characters of escaped text are punctuation at its start."""
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text):
            index += 2
        elif _is_punctuation(text[index]):
            index += 1
        else:
            break
    return index


def _trailing_punctuation(text: str) -> int:
    """Where the punctuation at the end of escaped text starts."""
    end = len(text)
    while end:
        backslashes = len(text[:end - 1]) - len(text[:end - 1].rstrip("\\"))
        if backslashes % 2:
            end -= 2
        elif _is_punctuation(text[end - 1]):
            end -= 1
        else:
            break
    return end


def _index(tokens: list[str | _Mark | _Code], token: _Mark) -> int:
    return next(i for i, item in enumerate(tokens) if item is token)


def _resolve(tokens: list[str | _Mark | _Code], pairs: list[_Pair]) -> str:
    """A line's text.

    CommonMark sees `**` next to punctuation as emphasis only when white space or
    punctuation is on its other side, which Chinese text never has (是**“快”**吗 stays
    as it is). So what cannot stand at the edge of bold or italic text moves outside
    the markup: punctuation and spaces (是“**快**”吗), and code spans and links, which
    start and end with punctuation. Markup around nothing is dropped, and two adjacent
    italics (`*a**b*`, which CommonMark misreads) become one.
    """
    tokens = [token for token in tokens if token != ""]
    pairs = list(pairs)
    closing = {id(pair.closer): pair for pair in pairs if pair.emphasis}
    opening = {id(pair.opener): pair for pair in pairs if pair.emphasis}
    merged: list[str | _Mark | _Code] = []
    for token in tokens:
        ending = closing.get(id(merged[-1])) if merged else None
        starting = opening.get(id(token))
        if ending and starting and ending.closer.text == starting.opener.text:
            merged.pop()
            ending.closer = starting.closer
            closing[id(starting.closer)] = ending
            pairs.remove(starting)
        else:
            merged.append(token)
    tokens = merged
    links = {id(pair.opener): pair for pair in pairs if not pair.emphasis}
    links.update({id(pair.closer): pair for pair in pairs if not pair.emphasis})
    for pair in pairs:  # innermost first: pairs are recorded as they close
        if pair.emphasis:
            _move_out_leading(tokens, pair, links)
            _move_out_trailing(tokens, pair, links)
        start, end = _index(tokens, pair.opener), _index(tokens, pair.closer)
        if not any(isinstance(token, _Code) or (isinstance(token, str) and token) for token in tokens[start + 1:end]):
            del tokens[end]
            del tokens[start]
    return "".join(token if isinstance(token, str) else token.text for token in tokens)


def _move_out_leading(tokens: list[str | _Mark | _Code], pair: _Pair, links: dict[int, _Pair]) -> None:
    while True:
        start = _index(tokens, pair.opener)
        following = tokens[start + 1]
        if isinstance(following, _Mark):
            link = links.get(id(following))
            if link is None or link.opener is not following:
                return
            end = _index(tokens, link.closer)
            tokens[start:end + 1] = [*tokens[start + 1:end + 1], pair.opener]
        elif isinstance(following, _Code):
            tokens[start:start + 2] = [following, pair.opener]
        else:
            cut = _leading_punctuation(following)
            if not cut:
                return
            tokens[start:start + 2] = [following[:cut], pair.opener, following[cut:]]
            if cut < len(following):
                return
            del tokens[start + 2]


def _move_out_trailing(tokens: list[str | _Mark | _Code], pair: _Pair, links: dict[int, _Pair]) -> None:
    while True:
        end = _index(tokens, pair.closer)
        preceding = tokens[end - 1]
        if isinstance(preceding, _Mark):
            link = links.get(id(preceding))
            if link is None or link.closer is not preceding:
                return
            start = _index(tokens, link.opener)
            tokens[start:end + 1] = [pair.closer, *tokens[start:end]]
        elif isinstance(preceding, _Code):
            tokens[end - 1:end + 1] = [pair.closer, preceding]
        else:
            cut = _trailing_punctuation(preceding)
            if cut == len(preceding):
                return
            tokens[end - 1:end + 1] = [preceding[:cut], pair.closer, preceding[cut:]]
            if cut:
                return
            del tokens[end - 1]
