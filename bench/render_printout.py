"""How long the printout of a request takes, by number of records (R24).

Renders N archived comments, each with two versions, as the printout (PDF) and as PDF/A, and
prints seconds, pages and records per second next to a baseline measured in the same run:
WeasyPrint rendering the same number of plain paragraphs of the same text with no template,
no database and no metadata, i.e. what the layout engine alone costs.

    .venv/bin/python bench/render_printout.py [N ...]   (default: 50 200)
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import bench_account, django_on_fresh_sqlite


def main(sizes: list[int]) -> None:
    django_on_fresh_sqlite()
    from pypdf import PdfReader
    from weasyprint import HTML

    from narvaro.archive.capture import CaptureInput
    from narvaro.archive.models import Item
    from narvaro.archive.services import capture_batch
    from narvaro.disclosure.rendering import render_items_pdf

    account = bench_account()
    made = 0
    print(f"{'records':>8} {'pages':>6} {'printout s':>11} {'PDF/A s':>8} {'baseline s':>11}")
    for size in sizes:
        for version in (1, 2):
            capture_batch(
                account=account,
                captures=[
                    CaptureInput(
                        platform="x",
                        remote_id=f"r{n}",
                        kind="comment",
                        direction="received",
                        text=f"Kommentar {n} om biblioteket, version {version}. " * 3,
                        raw_payload=f'{{"id": "r{n}", "v": {version}}}',
                        author_handle=f"@person{n % 40}",
                        thread_remote_id=f"t{n // 10}",
                        created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n),
                    )
                    for n in range(made, size)
                ],
                source="bench",
            )
        made = max(made, size)
        items = list(Item.objects.filter(remote_id__in=[f"r{n}" for n in range(size)]))
        start = time.perf_counter()
        pdf = render_items_pdf(items=items, title="Bench")
        printout = time.perf_counter() - start
        start = time.perf_counter()
        render_items_pdf(items=items, title="Bench", pdf_a=True)
        pdf_a = time.perf_counter() - start
        text = "".join(f"<p>Kommentar {n} om biblioteket. " * 6 + "</p>" for n in range(size * 2))
        start = time.perf_counter()
        HTML(string=f"<html><body>{text}</body></html>").write_pdf()
        baseline = time.perf_counter() - start
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"{size:>8} {pages:>6} {printout:>11.2f} {pdf_a:>8.2f} {baseline:>11.2f}")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [50, 200])
