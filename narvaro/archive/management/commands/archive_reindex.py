"""`narvaro manage archive_reindex`: rebuild the archive's search index from its versions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from narvaro.archive.search import search_index_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search index of the records archive from the stored versions. "
        "The index is derived data (not part of the verified archive), so this is always safe; "
        "run it after restoring a backup or changing the search configuration."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = search_index_rebuild()
        self.stdout.write(f"Indexed {count} item(s).")
