"""Logins under load: the site served by gunicorn (2 gthread workers), measured over
HTTP from other processes, in one run:

- logins per second, 10 logins in flight;
- the trainee dashboard's throughput alone, and with 10 logins in flight beside it;
- lesson completion (a write) alone and with 10 logins in flight.

With `--before REF` the code of that git commit (e.g. the one before argon2 and the
login rework) is measured the same way in the same run, on its own fresh database.

    python benchmarks/login_load.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--before REF] [--seconds 10]

Workers are gthread (threads in each process): a login waits for its password hash,
which runs on the process's low-priority hashing thread, while the worker's other
threads go on serving pages. A sync worker would sit idle through every hash.
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from common import table
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"
LOGINS_IN_FLIGHT = 10
READERS = 8
ROUNDS = 5
WORKERS = 2
THREADS = 16
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
COMPLETE_FORM = re.compile(r'<form[^>]+action="([^"]+/complete)"')

# Run inside the measured code's folder: migrate, load the course, create the users.
SEED = """
import sys
from trainer import create_app
from trainer.accounts import logic as accounts
from trainer.cli import initialize
from trainer.extensions import db
from trainer.lessons import logic as lessons

app = create_app()
with app.app_context():
    initialize()
    courses = [c.id for c in lessons.all_courses()]
    password, *names = sys.argv[1:]
    for name in names:
        lessons.enroll(accounts.create_user(name, password, "trainee"), courses)
    db.session.commit()
"""


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("TRAINER_BENCH_DATABASE_URL", ""),
                        help="PostgreSQL server URL (a scratch database is created on it); default: SQLite")
    parser.add_argument("--before", default="", help="git commit whose code to measure too, for comparison")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each measurement")
    return parser.parse_args()


# --- the server --------------------------------------------------------------------


@contextmanager
def scratch_database(server_url: str, folder: str):
    if not server_url:
        yield f"sqlite:///{folder}/bench.db"
        return
    url = make_url(server_url)
    name = f"trainer_bench_{uuid.uuid4().hex[:8]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(code: Path, database_url: str, folder: str, usernames: list[str]):
    """gunicorn serving `code` on a seeded database; yields its port."""
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "TRAINER_DATABASE_URL": database_url,
        "TRAINER_INSTANCE_PATH": folder,
        "TRAINER_SECRET_KEY": "benchmark-" + "k" * 32,
        "TRAINER_CONTENT_DIR": str(code / "lessons"),
        "TRAINER_QUESTION_BANK_DIR": str(code / "question_bank"),
        "TRAINER_LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "-c", SEED, PASSWORD, *usernames], cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "gthread",
         "--threads", str(THREADS), "--keep-alive", "30", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=code, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _headers, _body = request(http.client.HTTPConnection("127.0.0.1", port, timeout=5), "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def code_of(commit: str):
    """The files of a git commit, in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", commit], cwd=PROJECT_ROOT, check=True, capture_output=True).stdout
        archive_path = Path(folder) / "code.tar"
        archive_path.write_bytes(archive)
        with tarfile.open(archive_path) as tar:
            tar.extractall(Path(folder) / "code", filter="data")
        yield Path(folder) / "code"


# --- the clients (in other processes) ---------------------------------------------


def request(connection: http.client.HTTPConnection, method: str, path: str, cookie: str = "", body: dict | None = None):
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        connection.close()  # the server closed an idle keep-alive connection: open another
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
    return response.status, response.getheaders(), response.read().decode("utf-8", "replace")


def session_cookie(headers) -> str:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    return ""


def log_in(connection: http.client.HTTPConnection, username: str) -> str:
    status, headers, page = request(connection, "GET", "/login")
    cookie = session_cookie(headers)
    token = CSRF.search(page).group(1)
    status, headers, _page = request(
        connection, "POST", "/login", cookie, {"csrf_token": token, "username": username, "password": PASSWORD}
    )
    if status != 302:
        raise RuntimeError(f"login of {username} answered {status}")
    return session_cookie(headers) or cookie


def page_client(port: int, kind: str, username: str) -> tuple[str, str, str]:
    """Log a page client in once: its cookie, the path it requests and the form's token."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    cookie = log_in(connection, username)
    if kind == "dashboard":
        return cookie, "/learn/", ""
    _s, _h, page = request(connection, "GET", "/learn/", cookie)
    course = re.search(r'href="(/learn/[^"/]+/)"', page).group(1)
    _s, _h, page = request(connection, "GET", course, cookie)
    lesson = re.search(rf'href="({re.escape(course)}[^"/]+)"', page).group(1)
    _s, _h, page = request(connection, "GET", lesson, cookie)
    return cookie, COMPLETE_FORM.search(page).group(1), CSRF.search(page).group(1)


def drive(kind: str, port: int, clients: list, start: float, seconds: float) -> int:
    """Requests of one kind completed between `start` and `start + seconds`, one thread
    per client: a user name to log in again and again, or a logged-in page client."""
    counts = [0] * len(clients)
    errors: list[str] = []

    def run(index: int, client) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            if kind == "login":
                step = lambda: log_in(connection, client)  # noqa: E731
            else:
                cookie, path, token = client

                def step() -> None:
                    if kind == "complete":
                        status, _h, _p = request(connection, "POST", path, cookie, {"csrf_token": token})
                    else:
                        status, _h, _p = request(connection, "GET", path, cookie)
                    if status not in (200, 302):
                        raise RuntimeError(f"{kind} answered {status}")

            time.sleep(max(0.0, start - time.time()))
            while time.time() < start + seconds:
                step()
                if time.time() <= start + seconds:
                    counts[index] += 1
        except Exception as exc:  # reported to the parent
            errors.append(f"{kind}: {exc!r}")

    threads = [threading.Thread(target=run, args=item) for item in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError("; ".join(errors[:3]))
    return sum(counts)


def measure(pool, port: int, loads: dict[str, list[str]], seconds: float) -> dict[str, float]:
    """Run the loads at once, each in its own process; requests per second of each."""
    start = time.time() + 1  # every process has started its threads by then
    pending = {kind: pool.apply_async(drive, (kind, port, clients, start, seconds)) for kind, clients in loads.items()}
    return {kind: result.get() / seconds for kind, result in pending.items()}


def run_variant(label: str, code: Path, args, pool) -> dict[str, float]:
    """Each figure is the median of `ROUNDS` measurements, the loads taking turns; each
    comparison is the median of the rounds' own ratios (with and without logins,
    measured a few seconds apart), so a neighbour's burst on a shared machine tilts no
    comparison."""
    users = {kind: [f"{kind}{n}" for n in range(count)] for kind, count in
             (("dashboard", READERS), ("complete", READERS), ("login", LOGINS_IN_FLIGHT))}
    phases = {
        "logins": ["login"],
        "dashboard": ["dashboard"],
        "dashboard+logins": ["dashboard", "login"],
        "complete": ["complete"],
        "complete+logins": ["complete", "login"],
    }
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, scratch_database(args.database_url, folder) as url, \
            served(code, url, folder, [name for names in users.values() for name in names]) as port:
        print(f"{label}: {ROUNDS} rounds of {len(phases)} measurements of {args.seconds:.0f} s", flush=True)
        clients = {"login": users["login"]}
        for kind in ("dashboard", "complete"):
            clients[kind] = [page_client(port, kind, username) for username in users[kind]]
        for _round in range(ROUNDS):
            for phase, kinds in phases.items():
                rates = measure(pool, port, {kind: clients[kind] for kind in kinds}, args.seconds)
                samples.setdefault(phase, []).append(rates[kinds[0]])
                if len(kinds) > 1:
                    samples.setdefault(f"logins beside {kinds[0]}", []).append(rates["login"])
                    samples.setdefault(f"{kinds[0]} kept", []).append(rates[kinds[0]] / samples[kinds[0]][-1])
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    args = arguments()
    if shutil.which("git") is None and args.before:
        raise SystemExit("--before needs git")
    backend = "PostgreSQL" if args.database_url else "SQLite"
    results = {}
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results["this code"] = run_variant("this code", PROJECT_ROOT, args, pool)
        if args.before:
            with code_of(args.before) as code:
                results[f"before ({args.before[:10]})"] = run_variant(f"before ({args.before[:10]})", code, args, pool)
    rows = []
    for label, f in results.items():
        rows.append([
            label,
            f"{f['logins']:.1f}",
            f"{f['dashboard']:.0f}",
            f"{f['dashboard+logins']:.0f} ({100 * f['dashboard kept']:.0f}%)",
            f"{f['logins beside dashboard']:.1f}",
            f"{f['complete']:.0f}",
            f"{f['complete+logins']:.0f} ({100 * f['complete kept']:.0f}%)",
        ])
    print(f"\n{backend}, gunicorn {WORKERS} gthread workers x {THREADS} threads, {LOGINS_IN_FLIGHT} logins in flight,"
          f" {READERS} page clients; requests per second, median of {ROUNDS}")
    print(table(["code", "logins/s", "dashboard", "dashboard, 10 logins in flight", "logins/s meanwhile",
                 "lesson completion", "completion, 10 logins in flight"], rows))
    print(f"\nthe dashboard keeps {100 * results['this code']['dashboard kept']:.0f}% of its throughput with"
          f" {LOGINS_IN_FLIGHT} logins in flight (target: at least 70%); (n%) is the median of the rounds' ratios")


if __name__ == "__main__":
    main()
