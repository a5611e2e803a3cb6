"""The inbox: conversations with the public, derived from what the archive captured.

A `Conversation` gathers the inbound items (mentions, replies and comments to our posts,
direct messages) of one exchange with one member of the public on one account, and the
replies drawn up to them. It holds no text of its own: what was said is read from the
archive, so a disposal (gallring) of the archive leaves no copy here. The links to archive
items (`ConversationItem`) and the history of what staff did (`ConversationEvent`) are the
inbox's own records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The radar's classification of the first inbound item, cached on the conversation for the
# list's filters and for routing.
from narvaro.radar.models import Category


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting for the sender")
    ANSWERED = "answered", _("Answered")
    REFERRED = "referred", _("Referred elsewhere")
    REGISTERED = "registered", _("Registered as a case")
    CLOSED = "closed", _("Closed")


# A conversation in one of these still needs us; the others are done until the sender writes.
ACTIVE_STATUSES = (Status.NEW, Status.OPEN)
DONE_STATUSES = (Status.ANSWERED, Status.REFERRED, Status.REGISTERED, Status.CLOSED)


class Conversation(models.Model):
    """One exchange with one member of the public on one account."""

    account = models.ForeignKey(
        "channels.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="conversations",
    )
    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="conversations",
        db_index=False,
    )
    # Groups the items of one exchange: "item:<id>" of its first item, or "dm:<thread>".
    key = models.CharField(_("grouping key"), max_length=300)
    root_item = models.ForeignKey(
        "archive.Item",
        verbose_name=_("first item"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        db_index=False,
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    author_handle = models.CharField(_("sender"), max_length=300, blank=True)
    # A personal identity number or other restricted content: text shown only to moderators.
    restricted = models.BooleanField(_("restricted"), default=False)
    opened_at = models.DateTimeField(_("received"))
    last_inbound_at = models.DateTimeField(_("last message from the sender"))
    # When the current wait for us began (received, or the sender wrote again after an answer).
    waiting_since = models.DateTimeField(_("waiting for us since"), null=True, blank=True)
    due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    inbound_count = models.PositiveIntegerField(_("messages from the sender"), default=1)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-last_inbound_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="conversation_unique_key"),
        ]
        indexes = [
            # The unit's inbox: its conversations by status, newest first.
            models.Index(
                fields=["unit", "status", "-last_inbound_at", "-id"], name="conv_unit_status_idx"
            ),
            # The list of a person's units, newest first, and its count; the root item is in
            # it so the secret-item check needs no table row (bench/inbox_list.py).
            models.Index(
                fields=["unit", "-last_inbound_at", "-id", "root_item"], name="conv_unit_list_idx"
            ),
            # Every conversation newest first (admins and registrars see them all).
            models.Index(fields=["-last_inbound_at", "-id"], name="conv_newest_idx"),
            models.Index(
                fields=["assignee", "status", "-last_inbound_at"], name="conv_assignee_idx"
            ),
            # The overdue list.
            models.Index(fields=["status", "due_at"], name="conv_due_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.author_handle}"

    def get_absolute_url(self) -> str:
        return reverse("inbox:conversation_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class ConversationItem(models.Model):
    """An archive item that belongs to a conversation: from the sender, or our reply."""

    class Role(models.TextChoices):
        INBOUND = "inbound", _("From the sender")
        RESPONSE = "response", _("Our reply")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    item = models.OneToOneField(
        "archive.Item", on_delete=models.PROTECT, related_name="conversation_entry"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("conversation item")
        verbose_name_plural = _("conversation items")
        ordering = ["conversation", "at", "id"]
        indexes = [models.Index(fields=["conversation", "at"], name="convitem_conv_at_idx")]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.item_id}"


class ConversationEvent(models.Model):
    """What happened to a conversation: routed, moved, assigned, status, reply, note."""

    class Type(models.TextChoices):
        CREATED = "created", _("Arrived")
        ROUTED = "routed", _("Routed")
        MOVED = "moved", _("Moved to another unit")
        ASSIGNED = "assigned", _("Assigned")
        STATUS = "status", _("Status changed")
        REPLIED = "replied", _("Replied")
        REPLY_FAILED = "reply_failed", _("Reply failed")
        NOTE = "note", _("Internal note")
        REOPENED = "reopened", _("Reopened by a new message")
        CATEGORY = "category", _("Category set")
        REGISTERED = "registered", _("Registered as a case")
        REFERRED = "referred", _("Referred")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    type = models.CharField(_("event"), max_length=20, choices=Type.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    # An internal note's text (never sent to the public).
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("conversation event")
        verbose_name_plural = _("conversation events")
        ordering = ["conversation", "at", "id"]
        indexes = [models.Index(fields=["conversation", "at"], name="convevent_conv_at_idx")]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.type}"


class RoutingRule(models.Model):
    """Sends matching conversations to a unit (and optionally a person), first match wins.

    A rule applies to conversations arriving on the accounts of `scope_unit` and the units
    below it (every account when empty). It matches when every condition it sets holds.
    """

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    scope_unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("for accounts of"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    keywords = models.TextField(
        _("keywords"),
        blank=True,
        help_text=_("One per line; matches when any appears in the message (word start)."),
    )
    authors = models.TextField(
        _("senders"), blank=True, help_text=_("Handles, one per line, e.g. @anna@social.example.")
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    target_unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("route to unit"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assign to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SavedReply(models.Model):
    """A reply a unit keeps ready, in Swedish or English, with placeholders."""

    class Purpose(models.TextChoices):
        ANSWER = "answer", _("Answer")
        REFERRAL = "referral", _("Referral (individual case)")

    class Language(models.TextChoices):
        SWEDISH = "sv", _("Swedish")
        ENGLISH = "en", _("English")

    unit = models.ForeignKey(
        "organisation.Unit",
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        related_name="saved_replies",
    )
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.SWEDISH
    )
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.ANSWER
    )
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders: {name} (the sender's name), {handle}, {unit}, {contact} "
            "(the unit's contact e-mail), {signature} (your first name)."
        ),
    )
    active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ["unit", "title"]

    def __str__(self) -> str:
        return self.title
