"""Every user-facing string goes through Flask-Babel and has an English translation."""
from __future__ import annotations

import ast
import re

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from trainer.extensions import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "trainer" / "translations" / "en" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = [("trainer/**.py", "python"), ("templates/**.html", "jinja2")]
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def source_messages() -> set[str]:
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def english() -> dict[str, str]:
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert fuzzy == [], f"fuzzy translations: {fuzzy[:5]}"
    return {m.id: m.string for m in catalog if m.id}


def test_every_message_has_an_english_translation():
    translations = english()
    missing = sorted(m for m in source_messages() if not translations.get(m))
    assert missing == [], f"{len(missing)} untranslated, e.g. {missing[:5]}"


def test_translations_keep_their_placeholders_and_contain_no_chinese():
    for source, target in english().items():
        if not target:
            continue
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source
        assert not CJK.search(target.replace("中文", "")), f"{source!r} -> {target!r}"


def test_the_compiled_catalog_matches_the_source():
    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == {k: v for k, v in english().items() if v}


def _strip_translated(text: str) -> str:
    return re.sub(r"""_\(\s*("[^"]*"|'[^']*')""", "", text)


def test_templates_have_no_untranslated_chinese():
    offenders = []
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(_strip_translated(path.read_text(encoding="utf-8")).splitlines(), 1):
            # The language switch names Chinese in Chinese, whatever the current language.
            if CJK.search(line.replace(">中文<", "")):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_views_forms_and_commands_have_no_untranslated_chinese():
    """Strings a page or a command shows come from views, forms and the CLI; each must be wrapped for Babel."""
    offenders = []
    for path in sorted((PROJECT_ROOT / "trainer").rglob("*.py")):
        if path.name not in {"views.py", "forms.py", "web.py", "access.py", "render.py", "cli.py"}:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # The demo accounts' names and units are data, the same in every language.
        data = {id(node) for assign in ast.walk(tree) if isinstance(assign, ast.Assign)
                and any(getattr(t, "id", None) == "DEMO_USERS" for t in assign.targets)
                for node in ast.walk(assign.value)}
        wrapped = {
            id(arg)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"_", "_l", "gettext", "lazy_gettext"}
            for arg in node.args
        }
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value)
                    and id(node) not in wrapped and id(node) not in data):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}: {node.value[:30]}")
    assert offenders == []


def test_the_site_speaks_english_when_asked(client):
    client.post("/language", data={"lang": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page and "登录" not in page
    client.post("/language", data={"lang": "zh_CN", "next": "/login"})
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_unknown_languages_are_ignored(client):
    client.post("/language", data={"lang": "xx"})
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)

