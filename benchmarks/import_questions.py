"""Import generated questions through the upload's own code path and report the time
and peak memory: 1,000 and 10,000 questions from Excel, then the 10,000 again (all
unchanged), then with every question changed (10,000 updates, each a new revision in
the history), then that import undone; each scenario in a fresh process and database
so the figures do not mix.

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

RUNS = ("first import", "same file again", "every question changed", "undo that import")


def scenario(server_url: str, count: int, fmt: str, runs: int, queue) -> None:
    with fresh_app(server_url) as app:
        questions = generate(count)
        content = formats.export(questions, fmt)
        for question in questions:
            question.explanation += "（修订）"
        changed = formats.export(questions, fmt)
        with app.app_context():
            user = accounts.create_user("bench", "bench-password-1", "instructor")
            db.session.commit()
            baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            rounds = []
            batch_id = 0
            for label in RUNS[:runs]:
                start = time.perf_counter()
                if label == "undo that import":
                    undone = importer.undo_batch(user, batch_id)
                    summary = importer.ImportSummary(updated=undone.restored)
                else:
                    batch = importer.store_upload(user, f"questions.{fmt}", changed if label == "every question changed" else content)
                    _batch, _plan, summary = importer.confirm_batch(user, batch.id)
                    batch_id = batch.id
                db.session.commit()
                rounds.append((label, time.perf_counter() - start, summary))
            peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) / 1024
        queue.put((backend(app), len(content), rounds, peak_mb))


def run(server_url: str, count: int, fmt: str, runs: int = 1):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=scenario, args=(server_url, count, fmt, runs, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    args = arguments(__doc__)
    rows = []
    per_question = {}
    for count, fmt, runs in ((1_000, "xlsx", 1), (10_000, "xlsx", len(RUNS)), (10_000, "yaml", 1)):
        engine, size, rounds, peak_mb = run(args.database_url, count, fmt, runs)
        for index, (label, seconds, summary) in enumerate(rounds):
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
