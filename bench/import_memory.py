"""Claim: importing a 1 GB X archive stays under 300 MB of memory (streaming, constant memory).

Figure: the peak resident memory (ru_maxrss) of a `narvaro import x` process importing a
generated 1 GB archive (about 100 MB of tweets.js and 900 MB of media files, in the real
archive layout), next to the baseline peak memory of a Python process that only starts and
imports Django and Narvaro (`narvaro version` plus `manage check`), measured the same way.

Run: .venv/bin/python bench/import_memory.py [SIZE_MB]
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZE_MB = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
MEDIA_SHARE = 0.9
MEDIA_FILE_MB = 0.3


def write_archive(root: Path, size_mb: int) -> tuple[int, int]:
    """An X archive of about `size_mb` MB; returns (tweets, media files)."""
    data = root / "data"
    media_dir = data / "tweets_media"
    media_dir.mkdir(parents=True)
    (data / "account.js").write_text(
        "window.YTD.account.part0 = "
        + json.dumps(
            [{"account": {"username": "bench", "accountId": "42", "accountDisplayName": "Bench"}}]
        )
    )
    rng = random.Random(1)
    media_files = int(size_mb * MEDIA_SHARE / MEDIA_FILE_MB)
    tweet_budget = size_mb * (1 - MEDIA_SHARE) * 1e6
    tweets = 0
    written = 0
    with (data / "tweets.js").open("w") as out:
        out.write("window.YTD.tweets.part0 = [\n")
        while written < tweet_budget:
            tweet_id = str(10**18 + tweets)
            text = " ".join(
                rng.choice(["bibliotek", "öppet", "idag", "snö", "park", "tack"]) for _ in range(30)
            )
            tweet: dict[str, object] = {
                "id_str": tweet_id,
                "id": tweet_id,
                "full_text": text,
                "created_at": "Fri Mar 06 12:56:28 +0000 2026",
                "favorite_count": "0",
                "retweet_count": "0",
                "lang": "sv",
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
                "display_text_range": ["0", str(len(text))],
            }
            if tweets < media_files:
                name = f"M{tweets:012d}.jpg"
                medium = {
                    "id_str": str(tweets),
                    "media_url_https": f"https://pbs.twimg.com/media/{name}",
                    "type": "photo",
                }
                tweet["extended_entities"] = {"media": [medium]}
                tweet["entities"]["media"] = [medium]  # type: ignore[index]
                (media_dir / f"{tweet_id}-{name}").write_bytes(os.urandom(int(MEDIA_FILE_MB * 1e6)))
            chunk = (
                ("," if tweets else "") + json.dumps({"tweet": tweet}, ensure_ascii=False) + "\n"
            )
            out.write(chunk)
            written += len(chunk.encode())
            tweets += 1
        out.write("]\n")
    return tweets, min(media_files, tweets)


def peak_rss_mb(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command; return its own peak resident memory (MB), its run time and its output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        output = process.stdout.read().decode()
        # wait4 gives the resource usage of exactly this child (ru_maxrss in kB on Linux).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(args)} failed:\n{errors.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, time.perf_counter() - started, output


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="narvaro-mem-"))
    archive = work / "archive"
    tweets, media = write_archive(archive, SIZE_MB)
    size = sum(f.stat().st_size for f in archive.rglob("*") if f.is_file()) / 1e6
    env = {**os.environ, "NARVARO_HOME": str(work / "home"), "NARVARO_LOG_LEVEL": "WARNING"}
    env.pop("NARVARO_DATABASE_URL", None)
    narvaro = [sys.executable, "-m", "narvaro"]
    subprocess.run([*narvaro, "manage", "migrate", "-v0"], env=env, check=True)
    unit = (
        "from narvaro.organisation.services import unit_create; "
        "unit_create(actor=None, slug='bench', name='Bench')"
    )
    shell = [*narvaro, "manage", "shell", "-c", unit]
    subprocess.run(shell, env=env, check=True, capture_output=True)
    baseline, _, _ = peak_rss_mb([*narvaro, "manage", "check"], env)
    peak, seconds, out = peak_rss_mb(
        [
            *narvaro,
            "import",
            "x",
            str(archive),
            "--account",
            "x:@bench",
            "--unit",
            "bench",
            "--json",
        ],
        env,
    )
    report = json.loads(out)
    print(f"archive: {size:,.0f} MB ({tweets} tweets, {media} media files)")
    print(f"baseline peak RSS (narvaro manage check): {baseline:,.0f} MB")
    print(f"narvaro import x peak RSS:               {peak:,.0f} MB in {seconds:,.0f} s")
    print(f"imported: {report['items']} items, {report['media']} media")
    print(f"target < 300 MB: {'MET' if peak < 300 else 'NOT MET'}")


if __name__ == "__main__":
    main()
