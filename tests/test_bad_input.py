"""Malformed requests get a clear answer, never a server error."""
import pytest


@pytest.fixture
def instructor(login_as):
    client, _ = login_as("instructor")
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/bank/?page=abc&category=abc&difficulty=99&qtype=evil&status=evil&tag=-1&lesson=x",
        "/bank/?page=-5",
        "/bank/?category=99999999999999999999&tag=99999999999999999999",
        "/records/trainees/99999999999999999999",
        "/admin/users/99999999999999999999",
        "/bank/?page=99999",
        "/bank/?page=9999999999999999999",
        "/admin/users?page=9999999999999999999",
        "/records/progress?page=9999999999999999999",
        "/bank/?q=" + "政务 信息 " * 600,
        "/bank/export?format=yaml&q=" + "a " * 1100,
        "/bank/?q=%25%25%5C%5C_",
        "/bank/export?format=evil&category=abc",
        "/records/progress?page=abc&cohort=abc&course=-1&unit=%00",
        "/bank/questions/999999",
        "/bank/questions/999999/edit",
        "/bank/questions/1/versions/abc",
        "/bank/import/999999",
        "/learn/%00/x",
    ],
)
def test_odd_query_strings(login_as, url):
    admin, _ = login_as("admin")  # an administrator reaches every page
    response = admin.get(url)
    assert response.status_code in (200, 400, 404)


@pytest.mark.parametrize(
    "data",
    [
        {"qtype": "evil", "stem": "x", "category": "a"},
        {"qtype": "single", "stem": "x", "category": "a", "difficulty": "abc", "points": "abc"},
        {"qtype": "single", "stem": "x", "category": "a", "points": "1e9"},
        {"qtype": "single", "stem": "x", "category": "a", "points": "1", "options-0-text": "甲", "options-0-weight": "abc", "options-1-text": "乙"},
        {"qtype": "single", "stem": "x", "category": "a", "points": "1", "options-0-text": "甲", "options-0-weight": "nan", "options-0-correct": "y", "options-1-text": "乙"},
        {"qtype": "multiple", "stem": "x", "category": "a", "points": "1", "options-0-text": "甲", "options-0-weight": "inf", "options-0-correct": "y", "options-1-text": "乙"},
        {"qtype": "truefalse", "stem": "x", "category": "a", "answer": "maybe"},
        {"qtype": "blank", "stem": "x ___", "category": "a", "blanks": "\\"},
        {"qtype": "single", "stem": "x" * 20000, "category": "a"},
        {"qtype": "single", "stem": "x", "category": "/".join(["级"] * 20)},
        {"qtype": "single", "stem": "x", "category": "a", "lesson": "../../etc"},
    ],
)
def test_odd_question_forms(instructor, data):
    for url in ("/bank/questions/new", "/bank/questions/preview"):
        response = instructor.post(url, data=data)
        assert response.status_code in (200, 400), response.status_code


@pytest.mark.parametrize(
    "data",
    [
        {"ids": ["abc"], "action": "retire"},
        {"ids": ["1"], "action": "evil"},
        {"ids": ["99999999999999999999"], "action": "retire"},
        {"ids": ["1"], "action": "move", "category": "a//b"},
        {},
    ],
)
def test_odd_bulk_requests(instructor, data):
    assert instructor.post("/bank/bulk", data=data).status_code == 302


def test_odd_account_forms(login_as):
    admin, admin_id = login_as("admin")
    for data in (
        {"username": "x" * 100, "display_name": "x", "role": "trainee"},
        {"username": "ok-name", "display_name": "x", "role": "trainee", "courses": ["abc"]},
        {"username": "ok-name2", "display_name": "x" * 500, "role": "trainee"},
    ):
        assert admin.post("/admin/users/new", data=data).status_code in (200, 400)
    assert admin.post(f"/admin/users/{admin_id}", data={"display_name": "", "role": "admin"}).status_code == 400
    assert admin.get("/admin/users?page=abc&cohort=abc&role=evil&active=7").status_code == 200


def test_odd_login_forms(client):
    for data in ({"username": "x" * 1000, "password": "y"}, {"username": "\x00", "password": "\x00"}, {"remember": "maybe"}):
        assert client.post("/login", data=data).status_code in (400, 401)
    assert client.post("/language", data={"lang": "en", "next": "http://evil.example"}).headers["Location"] == "/"


def test_nul_characters_are_refused_before_the_database(instructor):
    assert instructor.get("/bank/?q=a%00b").status_code == 400
    assert instructor.post("/bank/questions/new", data={"qtype": "single", "stem": "a\x00b"}).status_code == 400


def test_nul_characters_in_an_imported_file_are_reported(app, instructor):
    import io
    import re

    content = 'questions:\n  - type: truefalse\n    stem: "对\\0吗？"\n    answer: true\n'.encode()
    response = instructor.post("/bank/import", data={"file": (io.BytesIO(content), "q.yaml")}, content_type="multipart/form-data")
    page = instructor.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"第 2 行：“题干”中含有空字符", page)
