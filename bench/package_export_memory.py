"""Claim: `narvaro export` streams; its peak memory does not grow with the archive.

Figure: the peak resident memory (ru_maxrss) of `narvaro export bagit` and `narvaro export
eark` processes exporting archives of N and 4N generated items (each with a small media
file), next to the baseline peak memory of a `narvaro manage check` process in the same data
folder, measured the same way (os.wait4 on each child).

Run: .venv/bin/python bench/package_export_memory.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import bench_account, django_on_fresh_sqlite, generated_captures

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "--fill" else 5000
NARVARO = str(Path(sys.executable).parent / "narvaro")


def fill(count: int) -> str:
    """A fresh data folder whose archive holds `count` items, one in ten with a 20 kB image."""
    home = tempfile.mkdtemp(prefix="narvaro-bench-export-")
    django_on_fresh_sqlite(home)
    from dataclasses import replace

    from narvaro.archive.capture import MediaInput
    from narvaro.archive.services import capture_batch

    account = bench_account()
    batch = []
    for n, capture in enumerate(generated_captures(count)):
        if n % 10 == 0:
            image = MediaInput(
                original_name=f"{n}.jpg", content=os.urandom(20_000), content_type="image/jpeg"
            )
            capture = replace(capture, media=(image,))  # type: ignore[type-var]
        batch.append(capture)
        if len(batch) == 500:
            capture_batch(account=account, captures=batch, source="bench")
            batch = []
    if batch:
        capture_batch(account=account, captures=batch, source="bench")
    from django.db import connections

    connections.close_all()
    return home


def peak_mb(args: list[str], home: str) -> tuple[float, float]:
    """(peak resident MB, seconds) of one child process."""
    env = {**os.environ, "NARVARO_HOME": home, "NARVARO_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{args} failed with status {status}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def main() -> None:
    rows = []
    for count in (N, 4 * N):
        # Each size in its own child process, so Django is set up on its own folder.
        home = subprocess.run(
            [sys.executable, __file__, "--fill", str(count)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        base, _ = peak_mb([NARVARO, "manage", "check"], home)
        for fmt in ("bagit", "eark"):
            out = Path(home) / f"out-{fmt}"
            peak, seconds = peak_mb([NARVARO, "export", fmt, "--out", str(out), "--json"], home)
            rows.append((count, fmt, peak, base, seconds))
    print(f"{'items':>8} {'format':>6} {'export peak MB':>15} {'baseline MB':>12} {'seconds':>8}")
    for count, fmt, peak, base, seconds in rows:
        print(f"{count:>8} {fmt:>6} {peak:>15.1f} {base:>12.1f} {seconds:>8.1f}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--fill":
        print(fill(int(sys.argv[2])))
    else:
        main()
