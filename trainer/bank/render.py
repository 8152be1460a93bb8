"""A question as a trainee sees it: the stem's blanks become input boxes."""
from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from ..markdown import render_markdown
from .schema import BLANK_MARK

# A placeholder that Markdown and the sanitizer leave alone, swapped for the input
# box after both have run (the sanitizer would strip an <input> written earlier).
_TOKEN = "BLANKSLOT{}END"


def stem_html(stem: str, qtype: str, field_prefix: str = "answer", disabled: bool = False) -> Markup:
    if qtype != "blank":
        return render_markdown(stem)
    count = 0

    def slot(_match) -> str:
        nonlocal count
        count += 1
        return _TOKEN.format(count)

    html = str(render_markdown(BLANK_MARK.sub(slot, stem)))
    for number in range(1, count + 1):
        label = escape(_("第 %(n)d 空", n=number))
        box = (
            f'<input type="text" class="blank-input" name="{escape(field_prefix)}-blank-{number}" '
            f'aria-label="{label}" autocomplete="off"{" disabled" if disabled else ""}>'
        )
        html = html.replace(_TOKEN.format(number), box, 1)
    return Markup(html)
