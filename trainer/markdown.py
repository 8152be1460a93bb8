"""Markdown to safe HTML, for lessons, question stems and explanations.

Raw HTML in the source is escaped by the renderer, and the result goes through an
allow-list sanitizer as well, so a stem typed by an instructor cannot carry a script
whatever the renderer's future defaults turn out to be.
"""
from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# `breaks`: a line break typed in a textarea (a stem's "材料：" on its own line, numbered
# sub-questions) is a line break on the page, as instructors expect; Chinese text has
# no hard-wrapped paragraphs for it to break.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)

_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td", "a",
}
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"style"}, "td": {"style"}, "ol": {"start"}}


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def render_markdown(text: str | None) -> Markup:
    if not text:
        return Markup("")
    return Markup(sanitize(_renderer.render(text)))


def render_inline(text: str | None) -> Markup:
    """One line of Markdown (an option, a title) without the surrounding paragraph."""
    if not text:
        return Markup("")
    return Markup(sanitize(_renderer.renderInline(text)))


def render_plain(text: str | None) -> str:
    """Markdown reduced to its words, for one-line summaries in lists."""
    return Markup(render_markdown(text)).striptags()


# Lesson files mark the words of the course's source text as `[[引:…]]` (docs/lesson-format.md);
# the loader checks each one against the source before it is ever rendered.
QUOTATION = re.compile(r"\[\[引:(.*?)\]\]")
QUOTATION_CLASS = "speech-inline"
# Placeholders that Markdown and the sanitizer leave alone, swapped for the quotations
# after both have run, so that Markdown never reads the quoted words as syntax.
_QUOTE_TOKEN = re.compile("\ue000(\\d+)\ue001")


def _quotation(text: str, source: str) -> str:
    title = f' title="《{escape(source)}》"' if source else ""
    return f'<q class="{QUOTATION_CLASS}"{title}>{escape(text)}</q>'


def render_with_quotations(text: str | None, source: str = "") -> Markup:
    """Lesson Markdown whose `[[引:…]]` quotations become <q> elements naming `source`."""
    quotes: list[str] = []

    def hold(match: re.Match[str]) -> str:
        quotes.append(match.group(1))
        return f"\ue000{len(quotes) - 1}\ue001"

    html = str(render_markdown(QUOTATION.sub(hold, text or "")))
    return Markup(_QUOTE_TOKEN.sub(lambda m: _quotation(quotes[int(m.group(1))], source), html))


def plain_with_quotations(text: str | None, source: str = "") -> Markup:
    """One line of plain text (a lesson's key point) with its `[[引:…]]` quotations as <q>."""
    text = text or ""
    parts: list[str] = []
    position = 0
    for match in QUOTATION.finditer(text):
        parts += [str(escape(text[position:match.start()])), _quotation(match.group(1), source)]
        position = match.end()
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))
