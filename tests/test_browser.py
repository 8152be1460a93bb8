"""End to end in real headless Chromium: a trainee on a phone, using the keyboard."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from trainer.extensions import PROJECT_ROOT, db
from trainer.lessons.content import load_content

from .conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 375, "height": 740}

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def browser():
    # A developer without Chromium gets a skip; CI (TRAINER_REQUIRE_BROWSER=1) fails instead.
    if not shutil.which("chromium") and not os.path.exists(CHROMIUM) and not os.environ.get("TRAINER_REQUIRE_BROWSER"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def course(app, make):
    with app.app_context():
        load_content(PROJECT_ROOT / "lessons")
        db.session.commit()
    from trainer.lessons.logic import course_by_slug

    with app.app_context():
        return course_by_slug("gov-info-writing").id


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_trainee_reads_a_lesson_on_a_phone_with_the_keyboard(live_server, browser, make, course):
    make.user(username="zhangsan", display_name="张三", courses=[course])
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    requests_elsewhere = []
    console_errors = []
    page.on("request", lambda r: requests_elsewhere.append(r.url) if not r.url.startswith(live_server) else None)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    assert _no_horizontal_scroll(page)
    # Keyboard only: the user name field has focus, Tab moves on, Enter submits.
    page.keyboard.type("zhangsan")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/learn/")
    assert page.get_by_role("heading", name="我的学习").is_visible()
    assert page.get_by_role("progressbar").first.get_attribute("aria-valuenow") == "0"
    assert _no_horizontal_scroll(page)

    page.get_by_role("link", name="政务信息是什么，为什么重要").click()
    page.wait_for_url("**/learn/gov-info-writing/what-and-why")
    assert page.locator("figure.speech-quote figcaption").first.inner_text().startswith("出处：《信息培训会议讲话》")
    assert _no_horizontal_scroll(page)
    button = page.get_by_role("button", name="标记为已学完")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/learn/gov-info-writing/six-gaps")
    assert "已将《政务信息是什么，为什么重要》标记为已学完" in page.locator(".flashes").inner_text()

    page.goto(f"{live_server}/learn/")
    assert page.get_by_role("progressbar").first.get_attribute("aria-valuenow") == "1"
    assert requests_elsewhere == []  # nothing from a CDN or any other host
    assert console_errors == []  # no script errors, nothing blocked by the content security policy
    context.close()


def test_the_interface_switches_to_english(live_server, browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    assert page.get_by_role("heading", name="登录").is_visible()
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Log in").is_visible()
    assert page.get_by_label("User name").is_visible()
    page.get_by_role("button", name="中文").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="登录").is_visible()
    context.close()


def test_errors_are_announced_next_to_their_field(live_server, browser, make):
    make.user(username="zhangsan")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("zhangsan")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    password = page.get_by_label("密码")
    assert password.get_attribute("aria-invalid") == "true"
    described = password.get_attribute("aria-describedby")
    assert "用户名或密码不正确" in page.locator(f"#{described}").inner_text()
    context.close()


def test_an_instructor_imports_a_spreadsheet(live_server, browser, make, tmp_path):
    from trainer.bank import formats
    from trainer.bank.schema import Option, QuestionData

    make.user(username="teacher", role="instructor")
    sheet = tmp_path / "题目.xlsx"
    sheet.write_bytes(
        formats.export(
            [QuestionData("single", "讲话提出的第一个理念是什么？", "政务信息写作基础/三个理念", options=[Option("奋力争先", True), Option("推陈出新")])],
            "xlsx",
        )
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("teacher")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="题库").click()
    page.get_by_role("link", name="导入题目").click()
    page.get_by_label("题目文件").set_input_files(str(sheet))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_url("**/bank/import/*")
    assert "将新建：1" in page.locator(".summary-counts").inner_text()
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url("**/bank/import/*")
    assert "导入完成：新建 1 道" in page.locator(".flashes").inner_text()
    page.get_by_role("link", name="题库").first.click()
    assert page.get_by_role("link", name="讲话提出的第一个理念是什么？").is_visible()
    # Undo the whole import from its page, found in the import history.
    page.goto(f"{live_server}/bank/imports")
    page.get_by_role("link", name="题目.xlsx").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="撤销这次导入").click()
    page.wait_for_selector(".flashes")
    assert "已撤销这次导入：删除新建的 1 道题" in page.locator(".flashes").inner_text()
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_blanks_sit_inline_in_the_sentence(live_server, browser, make, bank, viewport):
    from trainer.bank.schema import QuestionData

    make.user(username="teacher", role="instructor")
    [question_id] = bank(QuestionData("blank", "六要素是时间、___、人物、事件。", "分类", blanks=[["地点"]]))
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("teacher")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/**")
    page.goto(f"{live_server}/bank/questions/{question_id}")
    sizes = page.evaluate(
        """() => {
            const box = document.querySelector('.trainee-view .blank-input');
            const line = box.closest('p');
            const font = parseFloat(getComputedStyle(line).fontSize);
            const lineHeight = parseFloat(getComputedStyle(line).lineHeight) || font * 1.7;
            return {em: box.getBoundingClientRect().width / font, lines: line.getBoundingClientRect().height / lineHeight};
        }"""
    )
    assert 6 <= sizes["em"] <= 10  # about eight characters, not the whole line
    assert sizes["lines"] < 1.6  # the sentence stays on one line around the box
    page.get_by_label("第 1 空").fill("地点")
    assert _no_horizontal_scroll(page)
    context.close()
