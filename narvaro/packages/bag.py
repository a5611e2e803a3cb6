"""BagIt (RFC 8493) packages of the archive, made with the Library of Congress `bagit` library.

The bag's payload (`data/`) is the archive format of `records.py`, plus PDF/A renderings
when asked for; `bagit` writes the SHA-256 and SHA-512 manifests, reading each file in
chunks (R31).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bagit
from django.conf import settings
from django.utils import timezone

from narvaro import __version__
from narvaro.packages.records import FORMAT_NAME, FORMAT_VERSION, Scope, WriteResult, write_records

Renderer = Callable[[Path, Scope], list[Path]]


@dataclass(frozen=True)
class BuiltPackage:
    records: WriteResult
    renderings: list[str]


def bag_info(scope: Scope, result: WriteResult) -> dict[str, Any]:
    return {
        "Source-Organization": settings.ORGANISATION_NAME,
        "Bagging-Date": timezone.localdate().isoformat(),
        "External-Description": (
            f"Records archive exported by Narvaro {__version__}: items, versions and events as "
            f"JSON Lines ({FORMAT_NAME} {FORMAT_VERSION}, schemas in data/schema), original "
            "payloads, media by SHA-256, renderings, and the fixity report."
        ),
        "Narvaro-Format": f"{FORMAT_NAME}/{FORMAT_VERSION}",
        "Narvaro-Accounts": ", ".join(sorted(result.heads)) or "-",
        "Narvaro-Period": f"{scope.date_from or '-'}/{scope.date_to or '-'}",
        "Narvaro-Intact": "yes" if result.intact else "no",
    }


def build_bagit(
    folder: Path,
    scope: Scope,
    *,
    scratch: Path,
    progress: Callable[[int], None] | None = None,
    renderer: Renderer | None = None,
) -> BuiltPackage:
    """Fill `folder` with a complete, valid bag of `scope`."""
    result = write_records(folder, scope, work=scratch, progress=progress)
    renderings = []
    if renderer is not None:
        target = folder / "renderings"
        target.mkdir()
        renderings = [path.relative_to(folder).as_posix() for path in renderer(target, scope)]
    bagit.make_bag(
        str(folder), bag_info(scope, result), processes=1, checksums=["sha256", "sha512"]
    )
    return BuiltPackage(records=result, renderings=renderings)
