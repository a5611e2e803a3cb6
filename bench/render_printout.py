"""How long the printout of a request takes, by number of records (R24).

Renders N archived comments, each with two versions, as the printout (PDF) and as PDF/A, and
prints seconds and pages next to two baselines measured in the same run:

- "same HTML": WeasyPrint alone on the printout's own HTML (no database, no template, no
  media fetcher), i.e. what laying out and writing that content costs; the difference to
  "printout" is what Narvaro adds;
- "plain": WeasyPrint on the same number of plain paragraphs of the comment text with no
  metadata (no facts table, no digests, no headings), so it has far fewer pages.

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
    from narvaro.disclosure.rendering import items_html, render_items_pdf

    account = bench_account()
    # Load Pango, HarfBuzz and the fonts once, as a long-lived worker has: otherwise the first
    # figure below would include that one-off second.
    HTML(string="<p>Kommentar</p>").write_pdf()
    made = 0
    print(
        f"{'records':>8} {'pages':>6} {'printout s':>11} {'PDF/A s':>8} {'same HTML s':>12}"
        f" {'plain s':>8} {'plain pages':>12}"
    )
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
        html, _media = items_html(items=items, title="Bench")
        start = time.perf_counter()
        HTML(string=html).write_pdf()
        same_html = time.perf_counter() - start
        text = "".join(f"<p>Kommentar {n} om biblioteket. " * 6 + "</p>" for n in range(size * 2))
        start = time.perf_counter()
        plain_pdf = HTML(string=f"<html><body>{text}</body></html>").write_pdf()
        plain = time.perf_counter() - start
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        plain_pages = len(PdfReader(io.BytesIO(plain_pdf or b"")).pages)
        print(
            f"{size:>8} {pages:>6} {printout:>11.2f} {pdf_a:>8.2f} {same_html:>12.2f}"
            f" {plain:>8.2f} {plain_pages:>12}"
        )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [50, 200])
