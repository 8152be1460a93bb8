"""Markdown to safe HTML, for lessons, question stems and explanations.

Raw HTML in the source is escaped by the renderer, and the result goes through an
allow-list sanitizer as well, so a stem typed by an instructor cannot carry a script
whatever the renderer's future defaults turn out to be.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

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
