"""Sessions and logins: logging out for good, throttling by address, disabled
accounts, password changes, hashing outside any write, forced password changes."""
import re
import threading

import pytest
from sqlalchemy import func, select, text, update
from werkzeug.security import generate_password_hash

from trainer.accounts import passwords
from trainer.accounts.models import LoginSession, LoginThrottle, User
from trainer.extensions import db

from .conftest import PASSWORD, AuthActions, make_app


def login_from(app, address: str, username: str, password: str = PASSWORD, **extra):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = AuthActions(client).login(username, password, **extra)
    return client, response


def logins_of(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(LoginSession.user_id == user_id))


# --- logging out -------------------------------------------------------------


def test_replaying_the_cookies_of_a_login_after_logout_does_not_get_in(app, make):
    user_id = make.user(username="zhang")
    browser, response = login_from(app, "10.0.0.1", "zhang", remember="y")
    other, _ = login_from(app, "10.0.0.2", "zhang")
    session_cookie = browser.get_cookie("session").value
    remember_cookie = browser.get_cookie("remember_token").value
    assert logins_of(app, user_id) == 2
    assert browser.post("/logout").status_code == 302
    assert logins_of(app, user_id) == 1

    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        thief = app.test_client()
        thief.set_cookie(name, value)
        response = thief.get("/learn/")
        assert response.status_code == 302 and "/login" in response.headers["Location"], name
    # Only that login ended: the user's other browser is still in.
    assert other.get("/learn/").status_code == 200


def test_an_administrator_can_end_every_login_of_a_user(app, make, login_as):
    user_id = make.user(username="zhang")
    browser, _ = login_from(app, "10.0.0.1", "zhang", remember="y")
    admin, _ = login_as("admin")
    response = admin.post(
        f"/admin/users/{user_id}",
        data={"display_name": "张三", "role": "trainee", "active": "y", "end_logins": "y"},
    )
    assert response.status_code == 302
    assert logins_of(app, user_id) == 0
    assert browser.get("/learn/").status_code == 302
    browser.delete_cookie("session")  # the remember-me cookie alone does not get in either
    assert browser.get("/learn/").status_code == 302


def test_a_login_runs_out_with_the_remember_me_period(app, make):
    user_id = make.user(username="zhang")
    browser, _ = login_from(app, "10.0.0.1", "zhang")
    with app.app_context():
        db.session.execute(update(LoginSession).values(expires_at=func.current_timestamp()))
        db.session.commit()
    assert browser.get("/learn/").status_code == 302
    # The next login forgets the logins of the user that ran out.
    login_from(app, "10.0.0.1", "zhang")
    assert logins_of(app, user_id) == 1


def test_the_remember_me_cookie_is_secure_with_secure_cookies(migrated_database, tmp_path, monkeypatch, make):
    monkeypatch.setenv("TRAINER_SECURE_COOKIES", "1")
    app = make_app(migrated_database, tmp_path / "secure")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    make.user(username="zhang")
    client = app.test_client()
    response = AuthActions(client).login("zhang", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and all("Secure" in c for c in cookies)
    with app.app_context():
        db.engine.dispose()


# --- throttling by name, address and pair -----------------------------------


class TestThrottleByAddress:
    def test_locking_out_a_name_from_one_address_leaves_other_addresses_alone(self, app, make):
        make.user(username="boss", role="admin")
        for _ in range(5):
            login_from(app, "203.0.113.9", "boss", "guess")
        assert login_from(app, "203.0.113.9", "boss")[1].status_code == 429
        # The real administrator, from an address that has not failed, gets in.
        assert login_from(app, "10.0.0.7", "boss")[1].status_code == 302

    def test_one_password_tried_across_many_names_from_one_address_is_stopped(self, app, make):
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
        for n in range(3):
            make.user(username=f"user{n}")
        statuses = [login_from(app, "203.0.113.9", f"user{n % 3}", "Password1")[1].status_code for n in range(10)]
        assert statuses == [401] * 7 + [429] * 3
        # Even a right password is not checked from that address now...
        assert login_from(app, "203.0.113.9", "user0")[1].status_code == 429
        # ...while every other address works as before.
        assert login_from(app, "10.0.0.7", "user0")[1].status_code == 302

    def test_a_name_guessed_from_many_addresses_hits_the_per_name_ceiling(self, app, make):
        app.config["LOGIN_MAX_FAILURES_PER_NAME"] = 6
        make.user(username="zhang")
        statuses = [login_from(app, f"198.51.100.{n}", "zhang", "guess")[1].status_code for n in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        assert login_from(app, "10.0.0.7", "zhang")[1].status_code == 429

    def test_logins_that_succeed_never_add_up_to_a_lock(self, app, make):
        """A classroom behind one address: right passwords do not count against it."""
        app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
        for n in range(6):
            make.user(username=f"trainee{n}")
        assert [login_from(app, "10.1.1.1", f"trainee{n}")[1].status_code for n in range(6)] == [302] * 6
        with app.app_context():
            assert db.session.get(LoginThrottle, ("address", "10.1.1.1")).attempts == 0

    def test_parallel_attempts_from_many_addresses_never_deadlock(self, app, make):
        """Eight attempts share the name row and pairs of them an address row; each is
        counted once, in the same order, whatever the interleaving."""
        make.user(username="zhang")
        statuses: list[int] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def attempt(n: int) -> None:
            try:
                client = app.test_client()
                client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n % 4}"
                barrier.wait()
                statuses.append(AuthActions(client).login("zhang", "bad" if n % 2 else PASSWORD).status_code)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sorted(statuses) == [302] * 4 + [401] * 4
        with app.app_context():
            rows = dict(db.session.execute(select(LoginThrottle.key, LoginThrottle.attempts)
                                           .where(LoginThrottle.scope != "pair")).all())
        assert rows == {"zhang": 4, "10.0.0.0": 0, "10.0.0.1": 2, "10.0.0.2": 0, "10.0.0.3": 2}


# --- disabled accounts --------------------------------------------------------


def test_a_disabled_account_answers_exactly_like_a_wrong_password(app, make, monkeypatch):
    make.user(username="gone", active=False)
    make.user(username="here")
    checked: list[str] = []
    real_verify = passwords.verify

    def counting_verify(stored: str, password: str) -> bool:
        checked.append(password)
        return real_verify(stored, password)

    monkeypatch.setattr(passwords, "verify", counting_verify)
    right_but_disabled = login_from(app, "10.0.0.1", "gone")[1]
    wrong = login_from(app, "10.0.0.1", "here", "wrong-password")[1]
    # The same status, message and count, after the same hash check.
    assert right_but_disabled.status_code == wrong.status_code == 401
    message = re.compile(r'id="password-error">([^<]+)<')
    assert message.search(right_but_disabled.get_data(as_text=True)).group(1) == message.search(
        wrong.get_data(as_text=True)
    ).group(1)
    assert "用户名或密码不正确。再失败 4 次" in wrong.get_data(as_text=True)
    assert checked == [PASSWORD, "wrong-password"]
    # The right password of a disabled account counts as a failure and locks like one.
    statuses = [login_from(app, "10.0.0.1", "gone")[1].status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert "已停用" not in login_from(app, "10.0.0.1", "gone")[1].get_data(as_text=True)


# --- changing one's password ------------------------------------------------


def test_changing_the_password_is_throttled_like_a_login(app, make):
    make.user(username="zhang")
    browser, _ = login_from(app, "10.0.0.1", "zhang")

    def change(current: str):
        return browser.post(
            "/account/password", data={"current_password": current, "new_password": "new-pass-123", "confirm": "new-pass-123"}
        )

    pages = [change("guess").get_data(as_text=True) for _ in range(5)]
    assert "当前密码不正确。再失败 4 次" in pages[0]
    assert "请 15 分钟后再试" in pages[4]
    # Locked: even the right current password is refused, and so is a login from there.
    assert "请 15 分钟后再试" in change(PASSWORD).get_data(as_text=True)
    assert login_from(app, "10.0.0.1", "zhang")[1].status_code == 429
    assert AuthActions(app.test_client()).login("zhang", "new-pass-123").status_code != 302


# --- hashing --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256:1000"])
def test_an_old_hash_is_replaced_by_argon2id_at_the_next_successful_login(app, make, method):
    user_id = make.user(username="zhang")
    with app.app_context():
        db.session.get(User, user_id).password_hash = generate_password_hash(PASSWORD, method=method)
        db.session.commit()
    assert login_from(app, "10.0.0.1", "zhang", "wrong-password")[1].status_code == 401
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith(method.split(":")[0])
    assert login_from(app, "10.0.0.1", "zhang")[1].status_code == 302
    with app.app_context():
        stored = db.session.get(User, user_id).password_hash
        assert stored.startswith("$argon2id$") and passwords.verify(stored, PASSWORD)
    assert login_from(app, "10.0.0.2", "zhang")[1].status_code == 302


def _write_from_another_connection(app, username: str) -> int:
    """Write the rows a login touches from a connection that refuses to wait for a lock,
    and read the attempt counted so far."""
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
        else:
            connection.exec_driver_sql("SET lock_timeout = '50ms'")
        connection.execute(update(User).where(User.username == username).values(unit=User.unit))
        connection.execute(update(LoginThrottle).values(attempts=LoginThrottle.attempts))
        attempts = connection.execute(
            select(LoginThrottle.attempts).where(LoginThrottle.scope == "name", LoginThrottle.key == username)
        ).scalar_one()
        connection.rollback()
        return attempts


def test_passwords_are_hashed_while_no_database_lock_is_held(app, make, monkeypatch):
    """While the hash is checked (and a new one computed), another connection can write
    the very rows the login writes, and sees the attempt already counted."""
    user_id = make.user(username="zhang")
    with app.app_context():
        db.session.get(User, user_id).password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.commit()
    seen: list[tuple[str, int]] = []
    real_verify, real_hash = passwords.verify, passwords.hash_password

    def verify(stored: str, password: str) -> bool:
        seen.append(("verify", _write_from_another_connection(app, "zhang")))
        return real_verify(stored, password)

    def hash_password(password: str) -> str:
        seen.append(("hash", _write_from_another_connection(app, "zhang")))
        return real_hash(password)

    monkeypatch.setattr(passwords, "verify", verify)
    monkeypatch.setattr(passwords, "hash_password", hash_password)
    assert login_from(app, "10.0.0.1", "zhang")[1].status_code == 302  # with a rehash
    assert login_from(app, "10.0.0.1", "zhang", "wrong-password")[1].status_code == 401
    assert seen == [("verify", 1), ("hash", 1), ("verify", 1)]


def test_a_request_still_commits_once(app, make):
    """The attempt is committed on its own connection; the request's session commits
    once (the suite fails a request that commits twice), whatever the outcome."""
    make.user(username="zhang")
    for password in (PASSWORD, "wrong-password"):
        assert login_from(app, "10.0.0.1", "zhang", password)[1].status_code in (302, 401)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM login_throttles")).scalar() == 3


# --- accounts whose password someone else chose ----------------------------------


def test_an_account_created_by_an_administrator_must_change_its_password_first(app, make, login_as):
    course_id = make.course("basics")
    admin, _ = login_as("admin")
    page = admin.post(
        "/admin/users/new", data={"username": "zhao", "display_name": "赵六", "role": "trainee", "courses": [str(course_id)]}
    ).get_data(as_text=True)
    password = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    browser, response = login_from(app, "10.0.0.1", "zhao", password)
    assert response.status_code == 302
    for url in ("/", "/learn/", "/learn/basics/", "/records/progress"):
        moved = browser.get(url)
        assert moved.status_code == 302 and moved.headers["Location"] == "/account/password", url
    assert browser.post("/learn/basics/lesson-1/complete").headers["Location"] == "/account/password"
    form = browser.get("/account/password")
    assert form.status_code == 200 and "请先改为只有您自己知道的密码" in form.get_data(as_text=True)
    changed = browser.post(
        "/account/password", data={"current_password": password, "new_password": "mine-now-123", "confirm": "mine-now-123"}
    )
    assert changed.status_code == 302
    assert browser.get("/learn/").status_code == 200
    with app.app_context():
        assert not db.session.scalars(select(User).where(User.username == "zhao")).one().must_change_password


def test_logging_out_is_allowed_before_the_password_is_changed(app, make):
    user_id = make.user(username="zhang")
    with app.app_context():
        db.session.get(User, user_id).must_change_password = True
        db.session.commit()
    browser, _ = login_from(app, "10.0.0.1", "zhang")
    assert browser.post("/logout").headers["Location"] == "/login"
    assert logins_of(app, user_id) == 0


def test_an_administrators_reset_makes_the_user_change_the_password(app, make, login_as):
    user_id = make.user(username="zhang")
    admin, admin_id = login_as("admin")
    admin.post(
        f"/admin/users/{user_id}",
        data={"display_name": "张三", "role": "trainee", "active": "y", "new_password": "handed-out-1"},
    )
    browser, _ = login_from(app, "10.0.0.1", "zhang", "handed-out-1")
    assert browser.get("/learn/").headers["Location"] == "/account/password"
    # An administrator setting their own password through the form chose it themselves.
    admin.post(
        f"/admin/users/{admin_id}",
        data={"display_name": "管理员", "role": "admin", "active": "y", "new_password": "my-own-pass-1"},
    )
    with app.app_context():
        assert not db.session.get(User, admin_id).must_change_password


def test_the_command_line_user_must_change_the_password_and_demo_accounts_need_not(app, runner):
    result = runner.invoke(args=["create-user", "--username", "boss", "--role", "admin"], input="typed-by-ops-1\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["init", "--demo"]).exit_code == 0
    with app.app_context():
        flags = dict(db.session.execute(select(User.username, User.must_change_password)).all())
    assert flags.pop("boss") is True
    assert set(flags) == {"admin", "teacher", "zhangsan", "lisi", "wangwu"} and not any(flags.values())


# --- caching ------------------------------------------------------------------


def test_pages_are_never_cached_but_static_files_may_be(app, make, login_as, bank):
    from trainer.bank.schema import QuestionData

    admin, _ = login_as("admin")
    created = admin.post("/admin/users/new", data={"username": "zhao", "display_name": "赵六", "role": "trainee"})
    assert created.status_code == 200 and 'class="secret"' in created.get_data(as_text=True)
    bank(QuestionData("truefalse", "对吗？", "a/b", answer=False))
    instructor, _ = login_as("instructor")
    responses = [created, admin.get("/admin/users"), instructor.get("/records/progress"), app.test_client().get("/login")]
    responses += [instructor.get(f"/bank/export?format={fmt}") for fmt in ("yaml", "xlsx", "gift")]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store"
    static = app.test_client().get("/static/css/app.css")
    static.close()
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")
