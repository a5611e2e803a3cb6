"""What the radar's pages show in the browser checks: an alert, a training, classified items.

kultur's account gets inbound comments (a burst of critique, one with a personnummer); an
alert names them; a trained classifier version holds scores and confusion matrices. Each
helper makes what is missing, so every check may call it first.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils import timezone

from narvaro.archive.capture import CaptureInput
from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.radar import services
from narvaro.radar.models import Alert, ModelVersion
from tests.browser.support import Cast

# The radar is for the moderators and managers of a unit and admins (max, alice, adam).
RADAR = frozenset({"moderator", "manager", "admin"})

TEXTS = [
    "Skandal! Ni har stängt badhuset utan förvarning.",
    "Vilken usel kommunikation om badhuset.",
    "Disgraceful decision to close the pool.",
    "När öppnar badhuset igen?",
    "Mitt personnummer är 811218-9876, varför har jag inte fått svar?",
]


def radar_items(cast: Cast) -> list[Item]:
    ids = [f"browser-radar-{n}" for n in range(len(TEXTS))]
    if Item.objects.filter(remote_id__in=ids).count() < len(ids):
        start = timezone.now() - dt.timedelta(minutes=40)
        capture_batch(
            account=cast.accounts["kultur"],
            captures=[
                CaptureInput(
                    platform="mastodon",
                    remote_id=remote_id,
                    kind="comment",
                    direction="received",
                    text=text,
                    raw_payload=json.dumps({"id": remote_id}),
                    author_handle=f"@invanare{n}@social.example",
                    created_at=start + dt.timedelta(minutes=n),
                )
                for n, (remote_id, text) in enumerate(zip(ids, TEXTS, strict=True))
            ],
            source="browser",
        )
    items = list(Item.objects.filter(remote_id__in=ids).order_by("remote_id"))
    services.items_classify([item.pk for item in items])
    return items


def radar_alert(cast: Cast) -> Alert:
    items = radar_items(cast)
    alert = Alert.objects.filter(account=cast.accounts["kultur"]).first()
    if alert is None:
        now = timezone.now()
        alert = Alert.objects.create(
            scope="account",
            account=cast.accounts["kultur"],
            unit=cast.accounts["kultur"].unit,
            window_start=now - dt.timedelta(hours=1),
            window_end=now,
            volume_spike=True,
            critique_spike=True,
            observed=24,
            expected=1.8,
            volume_p=2.1e-15,
            critique_observed=19,
            critique_expected_share=0.09,
            critique_p=4.0e-17,
            emailed_to=["alice@example.org"],
        )
        alert.items.set(items)
    return alert


def with_alert(cast: Cast, role: str) -> str:
    radar_alert(cast)
    return ""


def alert_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": radar_alert(cast).pk}


def with_training(cast: Cast, role: str) -> str:
    """A scored training (as the hourly task stores it), and classified items to explain."""
    radar_items(cast)
    if not ModelVersion.objects.filter(status="trained").exists():
        ModelVersion.objects.create(
            status="trained",
            label_count=40,
            last_label_id=0,
            folds=5,
            model_f1=0.643,
            rules_f1=0.499,
            confusion={
                "labels": ["question", "critique", "praise", "other"],
                "model": [[6, 0, 1, 3], [0, 6, 1, 3], [1, 0, 6, 3], [2, 0, 4, 4]],
                "rules": [[6, 0, 1, 3], [0, 0, 0, 10], [0, 0, 6, 4], [0, 0, 1, 9]],
            },
            class_counts={"question": 10, "critique": 10, "praise": 10, "other": 10},
        )
    return ""


def item_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": radar_items(cast)[0].pk}


def restricted_item_kwargs(cast: Cast, role: str) -> dict[str, Any]:
    return {"pk": radar_items(cast)[4].pk}
