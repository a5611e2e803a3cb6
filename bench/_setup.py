"""Shared set-up for the benchmarks: a fresh Narvaro on SQLite in a temporary NARVARO_HOME."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator


def django_on_fresh_sqlite(home: str | None = None) -> str:
    """Point Narvaro at a new temporary data folder (or `home`), set Django up, migrate.

    Returns the folder. With `home`, an archive generated there by an earlier run is kept.
    """
    home = home or tempfile.mkdtemp(prefix="narvaro-bench-")
    os.makedirs(home, exist_ok=True)
    os.environ["NARVARO_HOME"] = home
    os.environ.pop("NARVARO_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "narvaro.config.settings")
    os.environ.setdefault("NARVARO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return home


def bench_account():  # type: ignore[no-untyped-def]
    from narvaro.channels import services as channel_services
    from narvaro.organisation import services as org_services

    unit = org_services.unit_create(actor=None, slug="bench", name="Bench")
    return channel_services.account_create(actor=None, unit=unit, platform="x", handle="@bench")


WORDS = [
    *[
        "biblioteket",
        "öppnar",
        "kommunen",
        "snöröjning",
        "skolan",
        "museum",
        "utställning",
        "park",
        "lekplats",
    ],
    *[
        "räddningstjänsten",
        "brand",
        "vatten",
        "väg",
        "buss",
        "tack",
        "fråga",
        "svar",
        "idag",
        "imorgon",
        "helgen",
    ],
]


def generated_captures(count: int, seed: int = 7) -> Iterator[object]:
    """`count` tweet-like captures with realistic text and payload sizes."""
    import random

    from narvaro.archive.capture import CaptureInput

    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for n in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
        created = start + dt.timedelta(minutes=7 * n)
        payload = {
            "id_str": str(10**17 + n),
            "full_text": text,
            "created_at": created.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "favorite_count": str(rng.randint(0, 50)),
            "entities": {"hashtags": [], "urls": [], "user_mentions": []},
            "source": '<a href="https://mobile.twitter.com">Twitter Web App</a>',
        }
        yield CaptureInput(
            platform="x",
            remote_id=payload["id_str"],
            kind="post",
            direction="drawn_up",
            text=text,
            raw_payload=json.dumps(payload, ensure_ascii=False),
            author_handle="@bench",
            author_name="Bench",
            permalink=f"https://x.com/bench/status/{payload['id_str']}",
            created_at=created,
        )
