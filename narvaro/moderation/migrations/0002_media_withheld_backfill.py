"""Withhold the media of every item already decided as CSAM (R19/R20).

Until archive 0009, the archive withheld an item's media only when the moderation event of a
carried-out action named a CSAM reason; a decision whose platform action failed (or was left
pending) withheld nothing. Every `ModerationAction` with `restricted` set whose item has no
withholding event now gets the `media_withheld` event the decision appends today.

The event is appended through the archive's single writer (`item_event_record`), which keeps
the account's hash chain linear: a chained entry cannot be written with historical models.
Nothing else is changed, and running it again appends nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def withhold_decided(apps: Any, schema_editor: Any) -> None:
    from narvaro.archive.events import item_event_record
    from narvaro.archive.models import Item, ItemEvent
    from narvaro.archive.selectors import media_withheld_ids
    from narvaro.moderation.models import ModerationAction

    decided = (
        ModerationAction.objects.filter(restricted=True)
        .select_related("policy_version")
        .order_by("created_at", "pk")
    )
    done: set[int] = set()
    for action in decided.iterator():
        if action.item_id in done or media_withheld_ids([action.item_id]):
            continue
        version = action.policy_version
        item_event_record(
            item=Item.objects.get(pk=action.item_id),
            type=ItemEvent.Type.MEDIA_WITHHELD,
            details={
                "moderation_action": action.pk,
                "reason": action.reason,
                "action": action.action,
                "policy_version": version.number if version else None,
                "recorded_later": True,
            },
            actor=action.actor,
            source="moderation",
        )
        done.add(action.item_id)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("archive", "0009_item_event_media_withheld"),
    ]

    operations = [migrations.RunPython(withhold_decided, migrations.RunPython.noop)]
