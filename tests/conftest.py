"""Fixtures: one database per test session (SQLite, or a fresh database created on the
PostgreSQL server named by TRAINER_TEST_DATABASE_URL), its schema built once by the
real migrations, and every test leaving it empty again.

Tests see real commits: requests run in their own transactions exactly as in
production, so atomicity and concurrency are tested, not simulated.
"""
from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, delete, event, update
from sqlalchemy.engine import make_url

from trainer import create_app
from trainer.config import TESTING
from trainer.extensions import db

from . import factories

TEST_DB_ENV = "TRAINER_TEST_DATABASE_URL"
PASSWORD = factories.PASSWORD


@contextmanager
def fresh_database(sqlite_dir: Path) -> Iterator[str]:
    """A new, empty database: an SQLite file, or a database created on the PostgreSQL
    server named by TRAINER_TEST_DATABASE_URL and dropped afterwards."""
    base = os.environ.get(TEST_DB_ENV)
    if not base:
        yield f"sqlite:///{sqlite_dir / f'trainer-{uuid.uuid4().hex[:8]}.db'}"
        return
    url = make_url(base)
    if url.get_backend_name() != "postgresql":
        raise pytest.UsageError(f"{TEST_DB_ENV} must be a postgresql+psycopg:// URL")
    name = f"trainer_test_{uuid.uuid4().hex[:12]}"
    # Connect to the server's own database to create ours; failing to connect fails
    # the run rather than silently testing SQLite only.
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def make_app(database_url: str, instance_path: Path, **overrides) -> Flask:
    app = create_app(
        {
            **TESTING,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_PATH": str(instance_path),
            "SECRET_KEY": "test-secret-key",
            **overrides,
        }
    )
    app.test_client_class = CSRFClient
    return app


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory) -> str:
    """The test database with the schema built by the migrations, once per session."""
    from flask_migrate import upgrade

    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return database_url


def _empty_all_tables(app: Flask) -> None:
    with app.app_context():
        db.session.rollback()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                # A tree (categories) refers to itself: cut the links before deleting.
                for fk in table.foreign_keys:
                    if fk.column.table is table and fk.parent.nullable:
                        connection.execute(update(table).values({fk.parent.name: None}))
                connection.execute(delete(table))
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(migrated_database, tmp_path) -> Iterator[Flask]:
    application = make_app(migrated_database, tmp_path / "instance")
    yield application
    _empty_all_tables(application)


class CSRFClient(FlaskClient):
    """A test client that sends a valid CSRF token with every state-changing request,
    as the site's own pages do; pass `csrf=False` to send none."""

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", uuid.uuid4().hex)
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def open(self, *args, **kwargs):
        send_token = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        if send_token and method in {"POST", "PUT", "PATCH", "DELETE"}:
            data = kwargs.get("data")
            if kwargs.get("json") is not None or data is None:
                headers = dict(kwargs.get("headers") or {})
                headers.setdefault("X-CSRFToken", self.csrf_token())
                kwargs["headers"] = headers
            elif isinstance(data, dict) and "csrf_token" not in data:
                kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str, password: str = PASSWORD, **extra):
        return self.client.post("/login", data={"username": username, "password": password, **extra})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def ctx(app):
    """An application context for calling the logic directly (not around requests:
    a request inside it would share this test's session)."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def make(app):
    """Factories bound to this test's app: make.user(...), make.course(...), ..."""
    return factories.Factories(app)


@pytest.fixture
def login_as(app, make):
    """A logged-in client for a new user of the given role."""

    def log_in(role: str = "trainee", **fields) -> tuple[FlaskClient, int]:
        user_id = make.user(role=role, **fields)
        client = app.test_client()
        response = AuthActions(client).login(make.username_of(user_id))
        assert response.status_code == 302, response.get_data(as_text=True)
        return client, user_id

    return log_in


@pytest.fixture
def count_queries(app):
    """Count the SQL statements run inside the block (requests included)."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def bank(app):
    """Create questions directly through the bank's logic; returns their ids."""
    from trainer.bank import logic

    def create(*datas) -> list[int]:
        with app.app_context():
            ids = [logic.create_question(d, None).id for d in datas]
            db.session.commit()
            return ids

    return create


@pytest.fixture
def together(app, monkeypatch):
    """Run requests in threads that each hold, just before taking their first lock,
    until all have read what they act on: every request acts on what it saw before
    the others changed it, the interleaving that used to lose members' cohorts."""
    from trainer.accounts import cohorts, locking
    from trainer.accounts import logic as accounts

    def run(*requests):
        barrier = threading.Barrier(len(requests), timeout=30)
        local = threading.local()

        def lock_rows(*args, **kwargs):
            if not getattr(local, "waited", False):
                local.waited = True
                barrier.wait()
            return locking.lock_rows(*args, **kwargs)

        monkeypatch.setattr(cohorts, "lock_rows", lock_rows)
        monkeypatch.setattr(accounts, "lock_rows", lock_rows)
        responses: list = [None] * len(requests)
        errors: list[BaseException] = []

        def call(index: int, request) -> None:
            try:
                responses[index] = request()
            except BaseException as exc:  # a 500 propagates in tests: reported below
                errors.append(exc)

        threads = [threading.Thread(target=call, args=item) for item in enumerate(requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        return responses

    return run
