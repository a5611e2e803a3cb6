"""Claim: `narvaro verify` checks the archive at a useful fraction of raw SHA-256 speed.

Figure: versions per second (and MB/s of content and payload) that `verify_archive` checks —
recomputing every content digest, payload digest and chain digest — against a baseline of
hashlib SHA-256 over the same text and payload bytes, in the same process.

Run: .venv/bin/python bench/verify_throughput.py [COUNT]
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bench_account, django_on_fresh_sqlite, generated_captures

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000


def main() -> None:
    django_on_fresh_sqlite()
    from narvaro.archive.fixity import verify_archive
    from narvaro.archive.models import ItemVersion
    from narvaro.archive.services import capture_batch

    account = bench_account()
    captures = list(generated_captures(COUNT))
    for start in range(0, COUNT, 500):
        capture_batch(account=account, captures=captures[start : start + 500], source="bench")

    blobs = [
        (text or "").encode() + (payload or "").encode()
        for text, payload in ItemVersion.objects.values_list("text", "raw_payload")
    ]
    megabytes = sum(len(blob) for blob in blobs) / 1e6
    started = time.perf_counter()
    for blob in blobs:
        hashlib.sha256(blob).hexdigest()
    raw_seconds = time.perf_counter() - started

    started = time.perf_counter()
    report = verify_archive()
    ours_seconds = time.perf_counter() - started
    assert report.intact, report.problems[:3]

    print(f"versions: {report.versions} ({megabytes:.1f} MB of text and payload)")
    raw_rate, raw_mbps = COUNT / raw_seconds, megabytes / raw_seconds
    print(f"baseline hashlib.sha256: {raw_rate:,.0f} versions/s ({raw_mbps:,.0f} MB/s)")
    print(
        f"narvaro verify_archive:  {COUNT / ours_seconds:,.0f} versions/s "
        f"({megabytes / ours_seconds:,.1f} MB/s, {ours_seconds:.2f} s)"
    )
    print(f"ratio: {raw_seconds / ours_seconds:.3f} x baseline")


if __name__ == "__main__":
    main()
