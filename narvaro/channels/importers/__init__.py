"""Importers for the exports people already hold. Each yields captures; the archive stores them.

One module per export format, each with a class implementing `base.Importer`, registered
in `IMPORTERS` below.
"""

from __future__ import annotations

from narvaro.channels.importers.base import Importer

IMPORTERS: dict[str, str] = {
    # format name on the command line → "module:Class"
    "x": "narvaro.channels.importers.x:XArchiveImporter",
    "mastodon": "narvaro.channels.importers.mastodon:MastodonExportImporter",
    "bluesky": "narvaro.channels.importers.bluesky:BlueskyRepoImporter",
    "facebook": "narvaro.channels.importers.meta:FacebookPageImporter",
    "instagram": "narvaro.channels.importers.meta:InstagramImporter",
}


def importer_class(name: str) -> type[Importer]:
    """The importer for a format name; KeyError for an unknown one, ImportError if not built yet."""
    from importlib import import_module

    module_name, _, class_name = IMPORTERS[name].partition(":")
    return getattr(import_module(module_name), class_name)  # type: ignore[no-any-return]
