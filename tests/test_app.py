import json
import stat

import pytest
from flask import Flask
from sqlalchemy import text

from trainer import create_app
from trainer.config import TESTING
from trainer.extensions import db

from .conftest import make_app


def test_defaults_use_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    for name in ("TRAINER_DATABASE_URL", "TRAINER_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'trainer.db'}"
    key_file = tmp_path / "inst" / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text()
    assert len(app.config["SECRET_KEY"]) >= 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A second process reads the same key instead of making a new one.
    again = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_workers_starting_together_share_one_key_and_never_read_an_empty_file(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from trainer.config import load_secret_key

    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _n: load_secret_key(str(tmp_path / "inst")), range(16)))
    assert len(keys) == 1 and len(keys.pop()) == 64
    assert [p.name for p in (tmp_path / "inst").iterdir()] == ["secret_key"]  # no temporary files left


def test_an_empty_key_file_is_a_clear_error(tmp_path):
    from trainer.config import load_secret_key

    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(SystemExit, match="密钥文件为空或太短"):
        load_secret_key(str(tmp_path))


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINER_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    monkeypatch.setenv("TRAINER_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("TRAINER_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("TRAINER_MAX_UPLOAD_MB", "2")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "inst")})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("other.db")
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["LOGIN_MAX_FAILURES"] == 7
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
    assert not (tmp_path / "inst" / "secret_key").exists()


@pytest.mark.parametrize("name, value", [
    ("TRAINER_LOGIN_MAX_FAILURES", "five"),
    ("TRAINER_LOGIN_MAX_FAILURES", "0"),
    ("TRAINER_LOG_LEVEL", "verbose"),
    ("TRAINER_DATABASE_URL", "garbage"),
    ("TRAINER_REMEMBER_DAYS", "99999999999"),
    ("TRAINER_TIMEZONE", "Mars/Olympus"),
    ("TRAINER_TIMEZONE", "../../etc/passwd"),
    ("TRAINER_MAX_UPLOAD_MB", "-1"),
    ("TRAINER_MAX_UPLOAD_MB", "nan"),
    ("TRAINER_PROXY_COUNT", "-1"),
])
def test_invalid_environment_value_is_a_clear_error(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=name):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_sqlite_connections_are_configured_for_safety(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    with app.app_context():
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        db.engine.dispose()


def test_healthz_reports_a_working_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}", tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.data) == {"status": "error", "database": "unavailable"}


def test_not_found_page_is_in_the_site_style_and_chinese(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "页面不存在" in page and 'class="site-header"' in page


def test_json_clients_get_json_errors(client):
    response = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["status"] == 404
    assert response.json["error"] == "页面不存在"


def test_unexpected_errors_show_a_friendly_500_without_a_traceback(migrated_database, tmp_path):
    app: Flask = make_app(migrated_database, tmp_path, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise ZeroDivisionError("secret detail")

    response = app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "服务器出错了" in page
    assert "secret detail" not in page and "Traceback" not in page


def test_a_logged_in_user_gets_the_friendly_500_when_the_database_is_down(migrated_database, tmp_path, make):
    from sqlalchemy.exc import OperationalError

    from .conftest import AuthActions

    app: Flask = make_app(migrated_database, tmp_path, PROPAGATE_EXCEPTIONS=False)
    database_down = OperationalError("SELECT 1", {}, Exception("connection refused"))

    @app.route("/boom")
    def boom():
        raise database_down

    make.user(username="zhang")
    client = app.test_client()
    assert AuthActions(client).login("zhang").status_code == 302

    def unreachable(identity):
        raise database_down

    app.login_manager.user_loader(unreachable)
    response = client.get("/boom")
    with app.app_context():
        db.engine.dispose()  # this app's own pool: closed now, not whenever it is collected
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "服务器出错了" in page and 'class="site-header"' in page


def test_testing_config_keeps_csrf_on():
    assert "WTF_CSRF_ENABLED" not in TESTING


def test_no_external_resources_are_referenced(client, login_as):
    """The site runs on intranets without internet: nothing from a CDN."""
    trainee, _ = login_as("trainee")
    for page in (client.get("/login"), trainee.get("/learn/")):
        html = page.get_data(as_text=True)
        assert "http://" not in html and "https://" not in html and "//cdn" not in html


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
