"""PDF/A renderings of an account's posts and threads for packages and snapshots (R11, R30).

The printout itself is `narvaro.disclosure.rendering.render_items_pdf`; this module only cuts
an account's items into parts (whole threads, about `PART_SIZE` items each, so no rendering
holds a whole large account in memory) and writes one PDF/A file per part.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

from django.utils import timezone

from narvaro.archive.models import Item
from narvaro.channels.models import Account
from narvaro.packages.records import Scope, _period_filter

PART_SIZE = 500


def rendering_available() -> bool:
    """Whether the PDF renderer is installed in this Narvaro."""
    return importlib.util.find_spec("narvaro.disclosure.rendering") is not None


def _parts(account: Account, scope: Scope) -> Iterator[list[int]]:
    """Item ids in thread order, cut between threads once a part has PART_SIZE items."""
    part: list[int] = []
    last_thread: str | None = None
    items = (
        Item.objects.filter(account=account)
        .filter(_period_filter(scope))
        .order_by("thread_remote_id", "created_at", "pk")
        .values_list("pk", "thread_remote_id")
    )
    for pk, thread in items.iterator(chunk_size=2000):
        if len(part) >= PART_SIZE and (thread != last_thread or not thread):
            yield part
            part = []
        part.append(pk)
        last_thread = thread
    if part:
        yield part


def account_renderings(target: Path, scope: Scope) -> list[Path]:
    """Write `<target>/account-<id>-part-NNNN.pdf` (PDF/A) for every account of `scope`."""
    from narvaro.disclosure.rendering import render_items_pdf

    written = []
    accounts = Account.objects.filter(pk__in=scope.account_ids).order_by("pk")
    for account in accounts:
        for number, ids in enumerate(_parts(account, scope), start=1):
            pdf = render_items_pdf(
                items=Item.objects.filter(pk__in=ids),
                pdf_a=True,
                title=f"{account} – {number}",
                preamble=[
                    f"Archived posts and threads of {account} ({account.unit.name}), "
                    f"part {number}.",
                ],
                generated_at=timezone.now(),
            )
            path = target / f"account-{account.pk}-part-{number:04d}.pdf"
            path.write_bytes(pdf)
            written.append(path)
    return written
