"""The moderation cast: the named cast plus max, moderator of kultur, and inbound items."""

from __future__ import annotations

from typing import Any

from narvaro.archive.models import Item
from narvaro.archive.services import capture_batch
from narvaro.archive.tests.support import a_capture
from narvaro.core.models import User
from narvaro.lib.testing import NarvaroTestCase, make_person
from narvaro.organisation import services as org_services
from narvaro.organisation.models import Membership


class ModerationTestCase(NarvaroTestCase):
    """Adds max (moderator of kultur) to the cast; account_a (bibliotek) is in his subtree."""

    max: User

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.max = make_person("max")
        org_services.membership_grant(
            actor=None, unit=cls.unit_a, user=cls.max, role=Membership.Role.MODERATOR
        )

    def inbound(self, remote_id: str = "1001", **extra: Any) -> Item:
        """An inbound comment on account_a (no live connection: an imported account)."""
        from narvaro.moderation.services import queue_fill

        capture_batch(
            account=self.account_a, captures=[a_capture(remote_id, **extra)], source="test"
        )
        queue_fill()  # what the task started by the capture signal does once it commits
        return Item.objects.get(remote_id=remote_id)
