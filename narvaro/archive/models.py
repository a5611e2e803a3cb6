"""The records archive: every post, comment and message captured, append-only and tamper-evident.

An `Item` is one logical thing on a platform (a post, a reply, a direct message). What it
said is kept in `ItemVersion` rows, one per distinct content, never changed; what happened
to it (deleted on the platform, later moderated, flagged) is kept in `ItemEvent` rows.
Versions and events of an account form one hash chain (`ChainHead` holds its end), so a
changed, removed or reordered row is detected by `narvaro verify` (R10).
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    POST = "post", _("Post")
    REPLY = "reply", _("Reply")
    COMMENT = "comment", _("Comment")
    MENTION = "mention", _("Mention")
    DIRECT_MESSAGE = "dm", _("Direct message")
    SHARE = "share", _("Share")


class Direction(models.TextChoices):
    RECEIVED = "received", _("Received")
    DRAWN_UP = "drawn_up", _("Drawn up")


class Item(models.Model):
    """One logical item on a platform, as first captured. Identity fields only; never updated."""

    # Indexed by item_account_created_idx (account first); no second index to keep up.
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="items",
        db_index=False,
    )
    platform = models.CharField(_("platform"), max_length=20)
    remote_id = models.CharField(_("platform id"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    author_handle = models.CharField(_("author handle"), max_length=300, blank=True)
    author_name = models.CharField(_("author name"), max_length=300, blank=True)
    author_platform_id = models.CharField(_("author platform id"), max_length=200, blank=True)
    parent_remote_id = models.CharField(_("in reply to"), max_length=200, blank=True)
    thread_remote_id = models.CharField(_("thread"), max_length=200, blank=True)
    permalink = models.URLField(_("permalink"), max_length=1000, blank=True)
    visibility = models.CharField(_("visibility"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("created on the platform"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen by Narvaro"), default=timezone.now)

    class Meta:
        verbose_name = _("archived item")
        verbose_name_plural = _("archived items")
        ordering = ["-created_at", "-id"]
        constraints = [
            # capture_store is idempotent on platform + remote id.
            models.UniqueConstraint(fields=["platform", "remote_id"], name="item_unique_remote_id"),
        ]
        indexes = [
            # The register lists an account's items by date (R12).
            models.Index(fields=["account", "created_at"], name="item_account_created_idx"),
            # Thread views gather an item's conversation.
            models.Index(fields=["platform", "thread_remote_id"], name="item_thread_idx"),
            models.Index(fields=["author_handle"], name="item_author_idx"),
            # Search results and the register are newest first: with this index a search for a
            # common word walks the newest items and stops after one page (bench/search_latency.py).
            models.Index(fields=["-created_at", "-id"], name="item_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.remote_id}"

    def get_absolute_url(self) -> str:
        return reverse("archive:record_detail", args=[self.pk])


class ChainedEntry(models.Model):
    """What versions and events share: a place in their account's hash chain."""

    # Indexed by the unique (account, seq) of each table.
    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    seq = models.PositiveBigIntegerField(_("sequence in the account's chain"))
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    chain_digest = models.CharField(_("chain digest"), max_length=64)

    class Meta:
        abstract = True


class ItemVersion(ChainedEntry):
    """One content of an item, as captured. A changed text or attachment is a new version.

    `text`, `html` and `raw_payload` may later be emptied by a lawful disposal (gallring),
    which keeps `content_digest` and `payload_digest`, so the chain still verifies.
    """

    # Indexed by the unique (item, number).
    item = models.ForeignKey(
        Item,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="versions",
        db_index=False,
    )
    number = models.PositiveIntegerField(_("version"))
    text = models.TextField(_("text"), null=True, blank=True)
    html = models.TextField(_("rendered HTML"), null=True, blank=True)
    raw_payload = models.TextField(_("raw platform payload"), null=True, blank=True)
    content_digest = models.CharField(_("content digest (SHA-256)"), max_length=64)
    payload_digest = models.CharField(_("payload digest (SHA-256)"), max_length=64)
    source = models.CharField(_("captured by"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("item version")
        verbose_name_plural = _("item versions")
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="itemversion_unique_number"),
            # A content is stored once per item: capture is idempotent on its digest.
            models.UniqueConstraint(
                fields=["item", "content_digest"], name="itemversion_unique_content"
            ),
            models.UniqueConstraint(fields=["account", "seq"], name="itemversion_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.item} v{self.number}"


class ItemEvent(ChainedEntry):
    """Something that happened to an item after capture: deleted, moderated, flagged, disposed."""

    class Type(models.TextChoices):
        DELETED = "deleted", _("Deleted on the platform")
        HIDDEN = "hidden", _("Hidden")
        UNHIDDEN = "unhidden", _("Shown again")
        REMOVED = "removed", _("Removed by moderation")
        REPORTED = "reported", _("Reported to the platform")
        BLOCKED = "blocked", _("Author blocked")
        MEDIA_WITHHELD = "media_withheld", _("Media withheld (child sexual abuse material)")
        FLAGGED_CASE = "case", _("Registered as a case (ärende)")
        FLAGGED_SECRET = "secret", _("Flagged secret (sekretess)")
        SECRET_LIFTED = "secret_lifted", _("Secrecy flag lifted")
        DISPOSED = "disposed", _("Disposed of (gallring)")

    # Indexed by the unique (item, type, occurred_at).
    item = models.ForeignKey(
        Item,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    type = models.CharField(_("event"), max_length=20, choices=Type.choices)
    occurred_at = models.DateTimeField(_("happened"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    actor_name = models.CharField(_("by"), max_length=300, blank=True)
    source = models.CharField(_("recorded by"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("item event")
        verbose_name_plural = _("item events")
        ordering = ["item", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["account", "seq"], name="itemevent_unique_seq"),
            # Re-importing the same deletion adds nothing.
            models.UniqueConstraint(
                fields=["item", "type", "occurred_at"], name="itemevent_unique_occurrence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.type}"


class ChainHead(models.Model):
    """The end of an account's hash chain. Locked while appending, so the chain stays linear."""

    account = models.OneToOneField(
        "channels.Account", verbose_name=_("account"), on_delete=models.PROTECT, related_name="+"
    )
    seq = models.PositiveBigIntegerField(_("last sequence number"), default=0)
    digest = models.CharField(_("last chain digest"), max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("chain head")
        verbose_name_plural = _("chain heads")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.seq}"


class MediaFile(models.Model):
    """A media file stored once by its SHA-256, whichever items use it."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    content_type = models.CharField(_("type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    storage_name = models.CharField(_("stored as"), max_length=300)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)

    class Meta:
        verbose_name = _("media file")
        verbose_name_plural = _("media files")

    def __str__(self) -> str:
        return self.sha256


class VersionMedia(models.Model):
    """An attachment of a version: the file (when it could be had), its alt text and caption."""

    version = models.ForeignKey(ItemVersion, on_delete=models.PROTECT, related_name="attachments")
    position = models.PositiveSmallIntegerField(_("position"))
    media = models.ForeignKey(
        MediaFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    caption = models.ForeignKey(
        MediaFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    original_name = models.CharField(_("original name or address"), max_length=1000, blank=True)
    alt_text = models.TextField(_("alt text"), blank=True)
    missing = models.BooleanField(_("missing from the source"), default=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"], name="versionmedia_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.position}"


class SearchEntry(models.Model):
    """The searchable text of an item: derived from its versions, so it may be rebuilt.

    Not part of the append-only archive (nothing is chained or verified here): it is filled
    by `archive.search` and rebuilt whole by `narvaro manage archive_reindex`. On
    PostgreSQL `vector` holds `to_tsvector('swedish', body)` behind a GIN index; on SQLite
    `body` is indexed by the contentless FTS5 table `archive_search_fts` (rowid = the item's
    `search.newest_key`), made by the migrations, and `vector` stays empty.
    """

    item = models.OneToOneField(
        Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="search_entry"
    )
    # The Swedish stems of every version's text and alt texts (see archive.search).
    body = models.TextField(_("searchable text"), blank=True)
    vector = SearchVectorField(null=True, blank=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")

    def __str__(self) -> str:
        return str(self.item_id)


class FeedCursor(models.Model):
    """How far an app deriving from the archive has read it (see `archive.feed`).

    Not part of the chained archive: a cursor set back to 0 makes its consumer derive again.
    """

    consumer = models.CharField(_("consumer"), max_length=50, unique=True)
    position = models.PositiveBigIntegerField(_("last item handled"), default=0)

    class Meta:
        verbose_name = _("feed cursor")
        verbose_name_plural = _("feed cursors")

    def __str__(self) -> str:
        return f"{self.consumer}: {self.position}"
