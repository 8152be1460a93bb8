"""Browse a bank of 100,000 questions the way an instructor does (through the web
page, templates included) and compare with a bank of 1,000 in the same run.

    python benchmarks/browse_bank.py [--database-url postgresql+psycopg://postgres@127.0.0.1/test] [--size 100000]
"""
from __future__ import annotations

import time

from common import arguments, backend, fresh_app, generate, median_seconds, table
from sqlalchemy import select

from trainer.accounts import logic as accounts
from trainer.bank import importer
from trainer.bank.formats import ParsedQuestion, ParseResult
from trainer.bank.models import Category, Tag
from trainer.extensions import db

REPEAT = 7


def fill(app, count: int) -> float:
    start = time.perf_counter()
    with app.app_context():
        for offset in range(0, count, 10_000):
            batch = generate(min(10_000, count - offset), seed=offset, prefix=f"B{offset}")
            parsed = ParseResult(questions=[ParsedQuestion(n + 1, d) for n, d in enumerate(batch)])
            importer.apply_plan(importer.plan_import(parsed), author=None)
            db.session.commit()
        accounts.create_user("bench", "bench-password-1", "instructor")
        db.session.commit()
    return time.perf_counter() - start


def pages(app) -> dict[str, str]:
    with app.app_context():
        category = db.session.scalar(select(Category.id).where(Category.path == "基准测试/四快"))
        tag = db.session.scalar(select(Tag.id).where(Tag.name == "标签7"))
    return {
        "first page": "/bank/",
        "category subtree + type": f"/bank/?category={category}&qtype=single",
        "tag + difficulty": f"/bank/?tag={tag}&difficulty=3",
        "search, common words": "/bank/?q=领导决策",
        "search, one question": "/bank/?q=第777题",
        "page 100": "/bank/?page=100",
    }


def measure(app) -> dict[str, float]:
    client = app.test_client()
    # Log in without the CSRF dance.
    with client.session_transaction() as session, app.app_context():
        from trainer.accounts.models import User

        user = db.session.scalars(select(User).where(User.username == "bench")).one()
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    results = {}
    for name, url in pages(app).items():
        assert client.get(url).status_code == 200, url  # warm up
        results[name] = median_seconds(lambda url=url: client.get(url), REPEAT)
    return results


def main() -> None:
    args = arguments(__doc__)
    large = args.size
    figures = {}
    for size in (1_000, large):
        with fresh_app(args.database_url) as app:
            built = fill(app, size)
            print(f"{backend(app)}: built a bank of {size:,} questions in {built:.1f} s", flush=True)
            figures[size] = measure(app)
    rows = [
        [name, f"{1000 * figures[1_000][name]:.1f} ms", f"{1000 * figures[large][name]:.1f} ms", f"x{figures[large][name] / figures[1_000][name]:.1f}"]
        for name in figures[large]
    ]
    print(table([f"page (median of {REPEAT})", "1,000 questions", f"{large:,} questions", "ratio"], rows))


if __name__ == "__main__":
    main()
