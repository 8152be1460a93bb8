"""Looking at a page writes nothing: no per-request bookkeeping in the database."""
import re

import pytest

from trainer.bank.schema import Option, QuestionData

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

PAGES = {
    "trainee": ["/learn/", "/learn/basics/", "/learn/basics/lesson-1", "/account/password"],
    "instructor": ["/learn/basics/lesson-1", "/records/progress", "/records/trainees/{trainee}", "/bank/",
                   "/bank/questions/{question}", "/bank/questions/{question}/edit", "/bank/categories",
                   "/bank/import", "/bank/export?format=yaml"],
    "admin": ["/admin/users", "/admin/users/{trainee}", "/admin/cohorts", "/admin/cohorts/{cohort}", "/healthz"],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_get_requests_write_nothing(app, make, bank, login_as, count_queries, role):
    course_id = make.course("basics", lessons_count=2)
    trainee = make.user(courses=[course_id], cohort="第一期")
    (question,) = bank(QuestionData("single", "题干", "分类", options=[Option("甲", True), Option("乙")]))
    client, _ = login_as(role, courses=[course_id], cohort="第一期")
    with app.app_context():
        from trainer.accounts.models import User
        from trainer.extensions import db

        cohort = db.session.get(User, trainee).cohort_id
    urls = [url.format(trainee=trainee, question=question, cohort=cohort) for url in PAGES[role]]
    for url in urls:
        client.get(url)  # a first visit may record something (a trainee starting a lesson)
    with count_queries() as statements:
        for url in urls:
            assert client.get(url).status_code == 200, url
    assert [s for s in statements if WRITE.match(s)] == []
