"""Shared setup for the benchmarks: a fresh migrated database and generated questions."""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from trainer import create_app
from trainer.bank.schema import Option, QuestionData

TOPICS = ["三个理念", "四快", "六新", "制度建设", "队伍建设", "工作机制", "标题", "导语", "六要素", "数据"]
WORDS = "政务信息工作是领导决策的基础和依据要做到快精准围绕中心贴近实际突出重点讲求实效不断创新去粗取精去伪存真由表及里"


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TRAINER_BENCH_DATABASE_URL", ""),
        help="PostgreSQL server URL (a scratch database is created on it); default: a temporary SQLite file",
    )
    parser.add_argument("--size", type=int, default=100_000, help="bank size for browse_bank.py")
    return parser.parse_args()


@contextmanager
def fresh_app(server_url: str) -> Iterator[Flask]:
    """An app on a new, migrated database, dropped afterwards."""
    from flask_migrate import upgrade

    from trainer.extensions import db

    with tempfile.TemporaryDirectory() as folder:
        if server_url:
            url = make_url(server_url)
            name = f"trainer_bench_{uuid.uuid4().hex[:8]}"
            server = create_engine(url, isolation_level="AUTOCOMMIT")
            with server.connect() as connection:
                connection.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
            database_url = url.set(database=name).render_as_string(hide_password=False)
        else:
            server, name, database_url = None, None, f"sqlite:///{folder}/bench.db"
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "INSTANCE_PATH": folder,
                "SECRET_KEY": "benchmark",
                "IMPORT_MAX_QUESTIONS": 200_000,
                "PASSWORD_HASH": {"memory_cost": 8, "time_cost": 1, "parallelism": 1},
                "LOG_LEVEL": "WARNING",
            }
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
        try:
            yield app
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            if server is not None:
                with server.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                server.dispose()


def backend(app: Flask) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]


def sentence(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(WORDS) for _ in range(length))


def generate(count: int, seed: int = 1, prefix: str = "BENCH") -> list[QuestionData]:
    """`count` valid questions of every type, deterministic for a seed."""
    rng = random.Random(seed)
    questions = []
    for n in range(count):
        kind = ("single", "multiple", "truefalse", "blank", "short")[n % 5]
        topic = TOPICS[n % len(TOPICS)]
        data = QuestionData(
            type=kind,
            stem=f"第{n}题：{sentence(rng, 30)}？",
            category=f"基准测试/{topic}/第{n % 20}组",
            idnumber=f"{prefix}-{n}",
            explanation=sentence(rng, 40),
            difficulty=1 + n % 5,
            points=1 + n % 3,
            tags=[topic, f"标签{n % 50}"],
        )
        if kind in ("single", "multiple"):
            data.options = [Option(sentence(rng, 8), correct=(i == 0 or (kind == "multiple" and i == 2))) for i in range(4)]
        elif kind == "truefalse":
            data.answer = bool(n % 2)
        elif kind == "blank":
            data.stem = f"第{n}题：{sentence(rng, 10)}___{sentence(rng, 10)}。"
            data.blanks = [[sentence(rng, 2), sentence(rng, 3)]]
        else:
            data.reference_answer = sentence(rng, 60)
            data.scoring_points = [sentence(rng, 10) for _ in range(3)]
        questions.append(data)
    return questions


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
