import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from trainer.accounts import logic, passwords, throttle
from trainer.accounts.access import is_safe_next
from trainer.accounts.models import LoginSession, LoginThrottle
from trainer.database import utcnow
from trainer.extensions import db

from .conftest import PASSWORD, AuthActions, make_app


def test_login_redirects_each_role_to_its_home(app, make):
    for role, home in (("trainee", "/learn/"), ("instructor", "/records/progress"), ("admin", "/records/progress")):
        client = app.test_client()
        user_id = make.user(role=role)
        response = AuthActions(client).login(make.username_of(user_id))
        assert response.status_code == 302
        assert client.get(response.headers["Location"]).headers["Location"].endswith(home)


def test_wrong_password_is_shown_next_to_the_password_field(client, auth, make):
    make.user(username="zhang")
    response = auth.login("zhang", "wrong-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'id="password-error"' in page and "用户名或密码不正确" in page
    assert "再失败 4 次" in page


def test_username_is_case_insensitive(client, auth, make):
    make.user(username="zhang")
    assert auth.login("  ZHANG ").status_code == 302


def test_missing_fields_are_named(client):
    response = client.post("/login", data={"username": "", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "请填写用户名" in page and "请填写密码" in page


def test_inactive_users_cannot_log_in(client, auth, make):
    make.user(username="gone", active=False)
    response = auth.login("gone")
    assert response.status_code == 401  # like a wrong password: see test_logins
    assert client.get("/learn/").status_code == 302  # still anonymous


def test_deactivating_a_user_ends_their_sessions(app, make, login_as):
    trainee, trainee_id = login_as("trainee")
    admin, _ = login_as("admin")
    assert trainee.get("/learn/").status_code == 200
    response = admin.post(
        f"/admin/users/{trainee_id}",
        data={"display_name": "学员", "role": "trainee", "unit": "", "cohort": ""},  # active unchecked
    )
    assert response.status_code == 302
    assert trainee.get("/learn/").status_code == 302


def test_remember_me_sets_a_long_lived_cookie(app, make):
    user_id = make.user()
    plain, remembered = app.test_client(), app.test_client()
    AuthActions(plain).login(make.username_of(user_id))
    AuthActions(remembered).login(make.username_of(user_id), remember="y")
    assert plain.get_cookie("remember_token") is None
    cookie = remembered.get_cookie("remember_token")
    assert cookie is not None and cookie.expires is not None
    # The remember cookie alone logs the user back in after the session is gone.
    remembered.delete_cookie("session")
    assert remembered.get("/learn/").status_code == 200


def test_logout_needs_a_post(client, auth, make):
    make.user(username="zhang")
    auth.login("zhang")
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 302
    assert client.get("/learn/").status_code == 302


@pytest.mark.parametrize(
    "target",
    ["/learn/", "/learn/course/lesson?x=1"],
)
def test_safe_next_targets_are_followed(client, make, target):
    make.user(username="zhang")
    response = client.post(f"/login?next={target}", data={"username": "zhang", "password": PASSWORD, "next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "http://evil.example/",
        "https://evil.example/learn/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/learn/\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_open_redirects_are_refused(client, make, target):
    make.user(username="zhang")
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_is_safe_next():
    assert is_safe_next("/records/progress?unit=a")
    for bad in (None, "", "learn", "//x", "/\\x", "http://x/", "https:x", "/a\nb"):
        assert not is_safe_next(bad)


def test_forms_without_a_csrf_token_are_refused(client, make):
    make.user(username="zhang")
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "安全校验未通过" in response.get_data(as_text=True)
    assert client.get("/learn/").status_code == 302


def test_forged_csrf_tokens_are_refused(client, make):
    make.user(username="zhang")
    response = client.post(
        "/login", data={"username": "zhang", "password": PASSWORD, "csrf_token": "forged"}, csrf=False
    )
    assert response.status_code == 400


def test_the_login_page_token_works(client, make):
    """The token the page itself renders is accepted (the fixture's shortcut is honest)."""
    import re

    make.user(username="zhang")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "zhang", "password": PASSWORD, "csrf_token": token}, csrf=False)
    assert response.status_code == 302


class TestThrottle:
    def test_five_failures_lock_the_name_for_fifteen_minutes(self, client, auth, make):
        make.user(username="zhang")
        for remaining in (4, 3, 2, 1):
            page = auth.login("zhang", "bad").get_data(as_text=True)
            assert f"再失败 {remaining} 次" in page
        fifth = auth.login("zhang", "bad")
        assert fifth.status_code == 429
        # Even the right password is refused now, with a clear message.
        refused = auth.login("zhang", PASSWORD)
        assert refused.status_code == 429
        assert "请 15 分钟后再试" in refused.get_data(as_text=True)

    def test_success_clears_the_count(self, app, client, auth, make):
        make.user(username="zhang")
        for _ in range(4):
            auth.login("zhang", "bad")
        assert auth.login("zhang").status_code == 302
        with app.app_context():
            rows = dict(db.session.execute(select(LoginThrottle.scope, LoginThrottle.attempts)).all())
        # The pair starts afresh; the name and the address keep the four failures only.
        assert rows == {"name": 4, "address": 4}

    def test_lock_and_window_expire(self, app, make, ctx):
        make.user(username="zhang")
        start = utcnow()

        def attempt(password: str, minutes: float) -> logic.LoginOutcome:
            outcome = logic.authenticate("zhang", password, "10.0.0.1", now=start + timedelta(minutes=minutes)).outcome
            db.session.commit()  # as the request does: the next attempt counts on its own connection
            return outcome

        outcomes = [attempt("bad", 0) for _ in range(5)]
        assert outcomes == [logic.LoginOutcome.INVALID] * 4 + [logic.LoginOutcome.LOCKED]
        assert attempt(PASSWORD, 14) is logic.LoginOutcome.LOCKED
        assert attempt(PASSWORD, 15 + 1 / 60) is logic.LoginOutcome.OK
        # Failures spread beyond the window never add up to a lock.
        for minute in range(0, 100, 20):
            attempt("bad", 30 + minute)
        assert attempt(PASSWORD, 131) is logic.LoginOutcome.OK

    def test_unknown_names_are_throttled_too(self, client, auth):
        for _ in range(5):
            assert auth.login("nobody", "bad").status_code in (401, 429)
        assert auth.login("nobody", "bad").status_code == 429

    def test_the_lock_holds_across_server_processes(self, app, migrated_database, tmp_path, make):
        """Two app instances (two gunicorn workers, or two hosts) share the count."""
        make.user(username="zhang")
        other = make_app(migrated_database, tmp_path / "other")
        for n in range(5):
            target = app if n % 2 else other
            AuthActions(target.test_client()).login("zhang", "bad")
        assert AuthActions(other.test_client()).login("zhang").status_code == 429
        assert AuthActions(app.test_client()).login("zhang").status_code == 429
        with other.app_context():
            db.engine.dispose()

    def test_parallel_guesses_cannot_exceed_the_limit(self, app, make):
        """A burst of simultaneous attempts: the database numbers them, and only five
        get their password checked."""
        make.user(username="zhang")
        with app.app_context():
            policy = logic.throttle_policy()
        results: list[bool] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def attempt() -> None:
            try:
                with app.app_context():
                    barrier.wait()
                    ticket = throttle.begin_attempt("zhang", "10.0.0.1", utcnow(), policy)
                    results.append(ticket.allowed)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=attempt) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert sorted(results) == [False] * 3 + [True] * 5

    def test_purge_forgets_expired_names(self, app, ctx):
        policy = logic.throttle_policy()
        long_ago = utcnow() - timedelta(hours=2)
        throttle.begin_attempt("old", "10.0.0.1", long_ago, policy)
        # Each attempt purges what has run out: the old name's pair and name rows go,
        # the shared address row was counted again just now.
        throttle.begin_attempt("recent", "10.0.0.1", utcnow(), policy)
        keys = set(db.session.execute(select(LoginThrottle.scope, LoginThrottle.key)).all())
        assert keys == {("pair", "recent@10.0.0.1"), ("name", "recent"), ("address", "10.0.0.1")}


class TestPasswords:
    def test_production_hashes_with_argon2id_at_owasps_parameters(self, migrated_database, tmp_path):
        from trainer.config import DEFAULTS

        app = make_app(migrated_database, tmp_path, PASSWORD_HASH=DEFAULTS["PASSWORD_HASH"])
        with app.app_context():
            user = logic.create_user("hashme", "s3cret-enough", "trainee")
            assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
            assert "s3cret-enough" not in user.password_hash
            assert passwords.verify(user.password_hash, "s3cret-enough")
            assert not passwords.verify(user.password_hash, "s3cret-enougH")
            assert not passwords.needs_rehash(user.password_hash)
            db.session.rollback()
            db.engine.dispose()

    def test_change_password(self, app, make):
        user_id = make.user(username="zhang")
        first, second = app.test_client(), app.test_client()
        AuthActions(first).login("zhang")
        AuthActions(second).login("zhang")
        wrong = first.post("/account/password", data={"current_password": "nope", "new_password": "new-pass-123", "confirm": "new-pass-123"})
        assert wrong.status_code == 400 and "当前密码不正确" in wrong.get_data(as_text=True)
        mismatch = first.post("/account/password", data={"current_password": PASSWORD, "new_password": "new-pass-123", "confirm": "other-pass-123"})
        assert "两次输入的新密码不一致" in mismatch.get_data(as_text=True)
        short = first.post("/account/password", data={"current_password": PASSWORD, "new_password": "short", "confirm": "short"})
        assert 'id="new_password-error"' in short.get_data(as_text=True)
        ok = first.post("/account/password", data={"current_password": PASSWORD, "new_password": "new-pass-123", "confirm": "new-pass-123"})
        assert ok.status_code == 302
        assert first.get("/learn/").status_code == 200  # this browser stays logged in
        assert second.get("/learn/").status_code == 302  # the other one is logged out
        with app.app_context():
            assert db.session.scalar(select(func.count()).where(LoginSession.user_id == user_id)) == 1
        assert AuthActions(app.test_client()).login("zhang", "new-pass-123").status_code == 302

    @pytest.mark.parametrize(
        ("password", "message"),
        [("short1", "至少要有 8 个字符"), ("12345678901", "不能全是数字"), ("zhangsan", "不能与用户名相同")],
    )
    def test_password_rules(self, ctx, password, message):
        from trainer.errors import DomainError

        with pytest.raises(DomainError, match=message) as info:
            logic.create_user("zhangsan", password, "trainee")
        assert info.value.field == "password"
