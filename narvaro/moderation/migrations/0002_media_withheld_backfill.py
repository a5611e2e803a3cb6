"""Withhold the media of every item already decided as CSAM (R19/R20).

Until archive 0009, the archive withheld an item's media only when the moderation event of a
carried-out action named a CSAM reason; a decision whose platform action failed (or was left
pending) withheld nothing. Every `ModerationAction` with `restricted` set whose item has no
withholding event now gets the `media_withheld` event the decision appends today.

The event is appended as a decision appends it today (`moderation.services.media_withhold`,
through the archive's single writer, which keeps the account's hash chain linear): a chained
entry cannot be written with historical models.
Nothing else is changed, and running it again appends nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def withhold_decided(apps: Any, schema_editor: Any) -> None:
    from django.db import transaction

    from narvaro.moderation.models import ModerationAction
    from narvaro.moderation.services import media_withhold

    decided = (
        ModerationAction.objects.filter(restricted=True)
        .select_related("item", "policy_version", "actor")
        .order_by("created_at", "pk")
    )
    for action in decided.iterator():
        with transaction.atomic():  # media_withhold locks the item and appends once per item
            media_withhold(item=action.item, record=action, actor=action.actor, recorded_later=True)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("archive", "0009_item_event_media_withheld"),
    ]

    operations = [migrations.RunPython(withhold_decided, migrations.RunPython.noop)]
