"""Claim: a committed disposal (gallring) disposes of versions in bulk, far faster than one by one.

Figure: versions per second that `versions_dispose` empties (content, attachments, search
index, one chained DISPOSED event each), called per 500 versions as `disposal_run_commit`
does, against a baseline of `version_dispose` called once per version over the same number of
versions of the same archive, in the same process. `narvaro verify` must pass afterwards.

Run: .venv/bin/python bench/disposal_throughput.py [COUNT]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import bench_account, django_on_fresh_sqlite, generated_captures

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000


def main() -> None:
    django_on_fresh_sqlite()
    from narvaro.archive.events import version_dispose, versions_dispose
    from narvaro.archive.fixity import verify_archive
    from narvaro.archive.models import ItemVersion
    from narvaro.archive.services import capture_batch

    account = bench_account()
    captures = list(generated_captures(2 * COUNT))
    for start in range(0, len(captures), 500):
        capture_batch(account=account, captures=captures[start : start + 500], source="bench")
    versions = list(ItemVersion.objects.order_by("pk"))
    one_by_one, in_bulk = versions[:COUNT], versions[COUNT : 2 * COUNT]

    started = time.perf_counter()
    for version in one_by_one:
        version_dispose(version=version, actor=None, details={"bench": "baseline"})
    baseline_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for start in range(0, len(in_bulk), 500):
        versions_dispose(versions=in_bulk[start : start + 500], actor=None, details={})
    bulk_seconds = time.perf_counter() - started

    report = verify_archive()
    assert report.intact, report.problems[:3]
    print(f"versions disposed of: {COUNT} one by one, {COUNT} in bulk; verify: intact")
    print(f"baseline (version_dispose per version): {COUNT / baseline_seconds:,.0f} versions/s")
    print(f"versions_dispose per 500:               {COUNT / bulk_seconds:,.0f} versions/s")
    print(f"speed-up: {baseline_seconds / bulk_seconds:.1f}x")


if __name__ == "__main__":
    main()
