"""Atomic output: a package is built in a temporary folder next to its target and renamed.

A failure at any point removes the temporary folder, so nothing half-written is ever left
under the target name. A target ending in `.zip` gets one zip file holding the package's
folder (written to a temporary name, then renamed).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path


class OutputError(Exception):
    """The target cannot be written (exists already, or its folder is missing)."""


def check_target(out: Path) -> None:
    if out.exists():
        raise OutputError(f"{out}: already exists; choose a new name")
    if not out.parent.is_dir():
        raise OutputError(f"{out.parent}: no such folder")


@contextlib.contextmanager
def staging(out: Path) -> Iterator[tuple[Path, Path]]:
    """(package folder to fill, scratch folder), both removed unless `publish` moved them."""
    check_target(out)
    temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        package = temp / (out.stem if out.suffix == ".zip" else out.name)
        package.mkdir()
        scratch = temp / ".scratch"
        scratch.mkdir()
        yield package, scratch
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def publish(package: Path, out: Path) -> None:
    """Move the finished package to `out` (zipped when `out` ends in .zip), atomically."""
    check_target(out)
    if out.suffix != ".zip":
        os.rename(package, out)
        return
    partial = package.parent / (out.name + ".partial")
    zip_folder(package, partial)
    os.rename(partial, out)


def zip_folder(folder: Path, target: Path) -> None:
    """Zip `folder` (as its own top folder) file by file, never reading a whole file at once."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for path in sorted(folder.rglob("*")):
            arcname = Path(folder.name) / path.relative_to(folder)
            if path.is_dir():
                continue
            zf.write(path, arcname.as_posix())
