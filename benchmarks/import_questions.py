"""Import generated questions through the upload's own code path and report the time
and peak memory: 1,000 and 10,000 questions from Excel, then the 10,000 again (all
unchanged), each in a fresh process and database so the figures do not mix.

    python benchmarks/import_questions.py [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
"""
from __future__ import annotations

import multiprocessing
import resource
import time

from common import arguments, backend, fresh_app, generate, table

from trainer.accounts import logic as accounts
from trainer.bank import formats, importer
from trainer.extensions import db


def scenario(server_url: str, count: int, fmt: str, twice: bool, queue) -> None:
    with fresh_app(server_url) as app:
        content = formats.export(generate(count), fmt)
        with app.app_context():
            user = accounts.create_user("bench", "bench-password-1", "instructor")
            db.session.commit()
            baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            rounds = []
            for _ in range(2 if twice else 1):
                start = time.perf_counter()
                batch = importer.store_upload(user, f"questions.{fmt}", content)
                _batch, _plan, summary = importer.confirm_batch(user, batch.id)
                db.session.commit()
                rounds.append((time.perf_counter() - start, summary))
            peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) / 1024
        queue.put((backend(app), len(content), rounds, peak_mb))


def run(server_url: str, count: int, fmt: str, twice: bool = False):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=scenario, args=(server_url, count, fmt, twice, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    args = arguments(__doc__)
    rows = []
    per_question = {}
    for count, fmt, twice in ((1_000, "xlsx", False), (10_000, "xlsx", True), (10_000, "yaml", False)):
        engine, size, rounds, peak_mb = run(args.database_url, count, fmt, twice)
        for index, (seconds, summary) in enumerate(rounds):
            label = "first import" if index == 0 else "same file again"
            rows.append([
                engine, f"{count:,}", fmt, label, f"{size / 1024:,.0f} KB", f"{seconds:.2f} s",
                f"{1000 * seconds / count:.2f} ms", f"{peak_mb:.0f} MB" if index == 0 else "",
                f"{summary.created}/{summary.updated}/{summary.unchanged}",
            ])
            per_question[(count, fmt, index)] = seconds / count
    print(table(["db", "questions", "format", "run", "file", "time", "per question", "peak memory (growth)", "created/updated/unchanged"], rows))
    ratio = per_question[(10_000, "xlsx", 0)] / per_question[(1_000, "xlsx", 0)]
    print(f"\nper-question cost at 10,000 vs 1,000 (xlsx): x{ratio:.2f} (1.0 = linear scaling)")


if __name__ == "__main__":
    main()
