"""Who may reach what: every protected page for every role, and object checks."""
import pytest
from sqlalchemy import select

from trainer.accounts.models import User
from trainer.bank import formats, importer, logic
from trainer.bank.models import Question
from trainer.extensions import db

from .conftest import AuthActions
from .test_bank import single

# (method, url, anonymous, trainee, instructor, admin): the expected status codes.
# 302 for anonymous users means "sent to the login page".
MATRIX = [
    ("GET", "/learn/", 302, 200, 200, 200),
    ("GET", "/learn/basics/", 302, 200, 200, 200),
    ("GET", "/learn/basics/lesson-1", 302, 200, 200, 200),
    ("POST", "/learn/basics/lesson-1/complete", 302, 302, 403, 403),
    ("GET", "/records/progress", 302, 403, 200, 200),
    ("GET", "/records/trainees/{trainee}", 302, 403, 200, 200),
    ("GET", "/admin/users", 302, 403, 403, 200),
    ("GET", "/admin/users/new", 302, 403, 403, 200),
    ("GET", "/admin/users/{trainee}", 302, 403, 403, 200),
    ("GET", "/admin/cohorts", 302, 403, 403, 200),
    ("GET", "/admin/cohorts/{cohort}", 302, 403, 403, 200),
    ("POST", "/admin/cohorts/{cohort}/enroll", 302, 403, 403, 400),
    ("POST", "/admin/cohorts/{cohort}/delete", 302, 403, 403, 400),
    ("POST", "/admin/cohorts/{cohort}/rename", 302, 403, 403, 400),
    ("POST", "/admin/cohorts/{cohort}/merge", 302, 403, 403, 400),
    ("POST", "/admin/cohorts", 302, 403, 403, 400),
    ("POST", "/admin/users/new", 302, 403, 403, 400),
    ("POST", "/admin/users/{trainee}", 302, 403, 403, 400),
    ("POST", "/account/password", 302, 400, 400, 400),
    ("GET", "/account/password", 302, 200, 200, 200),
    ("GET", "/bank/questions/{q}/history", 302, 403, 200, 200),
    ("GET", "/bank/questions/{q}/diff?from=1&to=2", 302, 403, 200, 200),
    ("GET", "/bank/questions/{q}/versions/1", 302, 403, 200, 200),
    ("POST", "/bank/questions/{q}/versions/1/restore", 302, 403, 302, 302),
    ("GET", "/bank/imports", 302, 403, 200, 200),
    # The instructor's own import: they and administrators see it and may undo it.
    ("GET", "/bank/import/{batch}", 302, 403, 200, 200),
    ("POST", "/bank/import/{batch}/undo", 302, 403, 302, 302),
]


@pytest.fixture
def world(app, make):
    course_id = make.course("basics", lessons_count=2)
    trainee = make.user(username="trainee", courses=[course_id], cohort="2026年第一期")
    instructor = make.user(username="instructor", role="instructor", courses=[course_id])
    make.user(username="admin", role="admin")
    with app.app_context():
        cohort = db.session.get(User, trainee).cohort_id
        owner = db.session.get(User, instructor)
        batch = importer.store_upload(owner, "q.yaml", formats.export([single()], "yaml"))
        importer.confirm_batch(owner, batch.id)
        question = db.session.scalars(select(Question)).one()
        logic.update_question(question, single(stem="改过的题干"))  # a second revision to compare
        db.session.commit()
        return {"trainee": trainee, "course": course_id, "cohort": cohort, "q": question.id, "batch": batch.id}


@pytest.mark.parametrize("method,url,expected", [(m, u, tuple(codes)) for m, u, *codes in MATRIX])
def test_role_matrix(app, world, method, url, expected):
    url = url.format(**world)
    for who, status in zip(("anonymous", "trainee", "instructor", "admin"), expected):
        client = app.test_client()
        if who != "anonymous":
            assert AuthActions(client).login(who).status_code == 302
        response = client.open(url, method=method)
        assert response.status_code == status, f"{who} {method} {url}: {response.status_code}"
        if who == "anonymous":
            assert "/login?next=" in response.headers["Location"]
        if status == 403:
            assert "没有权限" in response.get_data(as_text=True)


def test_a_trainee_cannot_read_a_course_they_are_not_enrolled_in(app, make, login_as):
    make.course("basics")
    other = make.course("other")
    client, _ = login_as("trainee", courses=[other])
    assert client.get("/learn/basics/").status_code == 403
    assert client.get("/learn/basics/lesson-1").status_code == 403
    assert client.post("/learn/basics/lesson-1/complete").status_code == 403


def test_a_trainee_cannot_reach_another_trainees_records(app, make, login_as):
    course_id = make.course("basics")
    victim = make.user(courses=[course_id])
    client, me = login_as("trainee", courses=[course_id])
    for target in (victim, me):
        assert client.get(f"/records/trainees/{target}").status_code == 403


def test_an_instructor_sees_only_the_trainees_of_their_courses(app, make, login_as):
    mine = make.course("mine")
    theirs = make.course("theirs")
    my_trainee = make.user(courses=[mine])
    their_trainee = make.user(courses=[theirs])
    client, _ = login_as("instructor", courses=[mine])
    assert client.get(f"/records/trainees/{my_trainee}").status_code == 200
    # Someone else's trainee is answered exactly like an id that does not exist.
    theirs, unknown = client.get(f"/records/trainees/{their_trainee}"), client.get("/records/trainees/999999")
    assert theirs.status_code == unknown.status_code == 404
    page = theirs.get_data(as_text=True).replace(f"/records/trainees/{their_trainee}", "/records/trainees/999999")
    assert page == unknown.get_data(as_text=True)
    page = client.get("/records/progress").get_data(as_text=True)
    assert f"/records/trainees/{my_trainee}" in page and f"/records/trainees/{their_trainee}" not in page


def test_state_changing_requests_need_csrf(app, make, login_as):
    course_id = make.course("basics")
    client, _ = login_as("trainee", courses=[course_id])
    assert client.post("/learn/basics/lesson-1/complete", csrf=False).status_code == 400
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.post("/language", data={"lang": "en"}, csrf=False).status_code == 400
    # A JSON call without the header is refused the same way.
    response = client.post("/learn/basics/lesson-1/complete", json={}, csrf=False)
    assert response.status_code == 400 and response.is_json
    assert client.get("/learn/basics/").get_data(as_text=True).count("已学完 0 / 3") == 1


# Pages anyone may open, logged in or not.
PUBLIC = {("GET", "static"), ("GET", "web.healthz"), ("GET", "web.index"), ("POST", "web.set_language"),
          ("GET", "accounts.login"), ("POST", "accounts.login"), ("POST", "accounts.logout")}


def test_every_route_is_in_an_access_matrix_or_public(app):
    from .test_bank import BANK_URLS

    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, url in [(m, u) for m, u, *_codes in MATRIX] + BANK_URLS:
        path = url.split("?")[0].format(trainee=1, course=1, cohort=1, q=1, c=1, batch=1)
        endpoint, _args = adapter.match(path, method=method)
        covered.add((method, endpoint))
    routes = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - covered - PUBLIC == set()
