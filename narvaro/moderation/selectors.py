"""Reads of moderation, always scoped to the person asking.

Moderators are the people holding MODERATE in an account's unit (or a unit above it): they
see the account's queue and act on it. Registrars read every account's moderation log and
every escalation; the unit's managers (who hold MODERATE too) read and work escalations.
Records moderated as child sexual abuse material are restricted to registrars and the unit's
managers (R19): for everyone else they do not exist (404).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from narvaro.archive.models import Item, ItemVersion
from narvaro.archive.selectors import get_item_for_user
from narvaro.channels.models import Account
from narvaro.core.models import User
from narvaro.moderation.models import (
    EscalationTask,
    ModerationAction,
    QueueEntry,
    SupervisionAlert,
)
from narvaro.organisation.models import Membership, Unit
from narvaro.organisation.roles import Capability, role_allows
from narvaro.organisation.selectors import unit_access


def _ids(user: User, capability: Capability) -> frozenset[int] | None:
    return unit_access(user).unit_ids(capability)


def can_moderate(user: User, account: Account) -> bool:
    """Whether `user` holds MODERATE in the account's unit."""
    return unit_access(user).allows(account.unit_id, Capability.MODERATE)


def sees_restricted(user: User, unit_id: int) -> bool:
    """Registrars, admins and the unit's managers open restricted records (R19)."""
    return (
        user.is_registrar
        or user.is_org_admin
        or unit_access(user).allows(unit_id, Capability.MANAGE)
    )


def reads_moderation(user: User, unit_id: int) -> bool:
    """Moderators (and managers) of the unit, registrars and admins read its moderation log."""
    return user.is_registrar or unit_access(user).allows(unit_id, Capability.MODERATE)


def is_restricted(item: Item) -> bool:
    return ModerationAction.objects.filter(item=item, restricted=True).exists()


def account_list_for_moderation(user: User) -> QuerySet[Account]:
    """The accounts whose moderation `user` may read, with pending counts and open alerts."""
    accounts = Account.objects.select_related("unit")
    if not user.is_registrar:
        ids = _ids(user, Capability.MODERATE)
        if ids is not None:
            accounts = accounts.filter(unit_id__in=ids)
    pending = QueueEntry.objects.filter(account=OuterRef("pk"), reviewed_at__isnull=True)
    return accounts.annotate(
        pending=Subquery(
            pending.order_by().values("account").annotate(n=Count("pk")).values("n")[:1]
        ),
        oldest_pending=Subquery(
            pending.order_by().values("account").annotate(m=Min("seen_at")).values("m")[:1]
        ),
        last_review=Subquery(
            QueueEntry.objects.filter(account=OuterRef("pk"))
            .order_by()
            .values("account")
            .annotate(m=Max("reviewed_at"))
            .values("m")[:1]
        ),
        open_alert=Exists(
            SupervisionAlert.objects.filter(account=OuterRef("pk"), resolved_at__isnull=True)
        ),
    ).order_by("unit__name", "platform", "handle")


def get_account_for_moderation(user: User, pk: int, *, write: bool = False) -> Account:
    """Account `pk`: 404 if `user` cannot see it, 403 if they may not read (or, with write,
    act on) its moderation."""
    try:
        account = Account.objects.select_related("unit", "comment_policy_version__policy").get(
            pk=pk
        )
    except Account.DoesNotExist as exc:
        raise Http404 from exc
    access = unit_access(user)
    if not access.allows(account.unit_id, Capability.VIEW):
        raise Http404
    allowed = can_moderate(user, account) if write else reads_moderation(user, account.unit_id)
    if not allowed:
        raise PermissionDenied
    return account


def queue_for_account(
    account: Account,
    *,
    kind: str = "",
    author: str = "",
    q: str = "",
    include_reviewed: bool = False,
) -> QuerySet[QueueEntry]:
    """The account's queue, newest first: unreviewed entries (or all), filtered.

    Each entry carries `latest_text` (the newest version's text) and `restricted`; the item
    and its account are joined, so a page of rows costs one query.
    """
    entries = QueueEntry.objects.filter(account=account)
    if not include_reviewed:
        entries = entries.filter(reviewed_at__isnull=True)
    if kind:
        entries = entries.filter(item__kind=kind)
    if author:
        handle = author.strip().lstrip("@")
        entries = entries.filter(
            Q(item__author_handle__icontains=handle) | Q(item__author_name__icontains=handle)
        )
    if q:
        entries = entries.filter(
            Exists(ItemVersion.objects.filter(item=OuterRef("item_id"), text__icontains=q))
        )
    latest = ItemVersion.objects.filter(item=OuterRef("item_id")).order_by("-number")
    return (
        entries.select_related("item", "reviewed_by")
        .annotate(
            latest_text=Subquery(latest.values("text")[:1]),
            restricted=Exists(
                ModerationAction.objects.filter(item=OuterRef("item_id"), restricted=True)
            ),
        )
        .order_by("-posted_at", "-item_id")
    )


def get_item_for_moderation(user: User, pk: int, *, write: bool = False) -> Item:
    """Archived item `pk` as a moderator reaches it.

    404 when `user` cannot see the item (the archive's rules, including secrecy) or it is
    restricted (R19) and `user` is not a registrar or one of the unit's managers; 403 when
    they may see it but not moderate it (with `write`, or for reading the moderation
    history without being a moderator or registrar).
    """
    item = get_item_for_user(user, pk)
    if is_restricted(item) and not sees_restricted(user, item.account.unit_id):
        raise Http404
    allowed = (
        can_moderate(user, item.account) if write else reads_moderation(user, item.account.unit_id)
    )
    if not allowed:
        raise PermissionDenied
    return item


def thread_items(item: Item, limit: int = 50) -> list[Item]:
    """The item with its thread around it (the archive's copy), oldest first, at most `limit`."""
    latest = ItemVersion.objects.filter(item=OuterRef("pk")).order_by("-number")
    items = Item.objects.annotate(
        latest_text=Subquery(latest.values("text")[:1]),
        restricted=Exists(ModerationAction.objects.filter(item=OuterRef("pk"), restricted=True)),
    )
    if not item.thread_remote_id:
        return list(items.filter(pk=item.pk))
    items = items.filter(
        account_id=item.account_id, platform=item.platform, thread_remote_id=item.thread_remote_id
    ).order_by("created_at", "pk")
    rows: list[Item] = list(items[:limit])
    if item.pk not in {row.pk for row in rows}:
        rows = [*rows[: limit - 1], *items.filter(pk=item.pk)]
    return rows


def actions_for_item(item: Item) -> QuerySet[ModerationAction]:
    return (
        ModerationAction.objects.filter(item=item)
        .select_related("actor", "policy_version__policy", "platform_action", "notice_action")
        .order_by("-created_at", "-id")
    )


def moderation_log_for_account(account: Account) -> QuerySet[ModerationAction]:
    """Every moderation decision on the account, newest first (R16, R22)."""
    return (
        ModerationAction.objects.filter(account=account)
        .select_related("actor", "item", "policy_version__policy", "escalation")
        .order_by("-created_at", "-id")
    )


def get_action_for_user(user: User, pk: int) -> ModerationAction:
    """Moderation action `pk` for a reader of its account's moderation; restricted ones
    only for registrars and the unit's managers (404 otherwise)."""
    try:
        action = ModerationAction.objects.select_related(
            "account__unit",
            "item",
            "actor",
            "policy_version__policy",
            "platform_action",
            "notice_action",
            "item_event",
        ).get(pk=pk)
    except ModerationAction.DoesNotExist as exc:
        raise Http404 from exc
    unit_id = action.account.unit_id
    if not unit_access(user).allows(unit_id, Capability.VIEW):
        raise Http404
    if action.restricted and not sees_restricted(user, unit_id):
        raise Http404
    if not reads_moderation(user, unit_id):
        raise PermissionDenied
    return action


def escalation_list_for_user(user: User) -> QuerySet[EscalationTask]:
    """Escalations of the units `user` manages (all of them for registrars and admins)."""
    tasks = EscalationTask.objects.select_related("account", "unit", "action__item").order_by(
        "status", "-created_at"
    )
    if user.is_registrar or user.is_org_admin:
        return tasks
    ids = _ids(user, Capability.MANAGE)
    return tasks.filter(unit_id__in=ids or ())


def get_escalation_for_user(user: User, pk: int) -> EscalationTask:
    """Escalation `pk` for a registrar, an admin or a manager of its unit; 404 otherwise."""
    try:
        task = EscalationTask.objects.select_related(
            "account", "unit", "action__item", "action__actor", "closed_by"
        ).get(pk=pk)
    except EscalationTask.DoesNotExist as exc:
        raise Http404 from exc
    if not sees_restricted(user, task.unit_id):
        raise Http404
    return task


def can_manage_escalations(user: User) -> bool:
    ids = _ids(user, Capability.MANAGE)
    return user.is_registrar or ids is None or bool(ids)


def people_with(unit: Unit, capability: Capability) -> QuerySet[User]:
    """Active people holding `capability` in `unit` through a role there or in a unit above."""
    chain: list[int] = []
    parents = dict(Unit.objects.values_list("id", "parent_id"))
    current: int | None = unit.pk
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    roles = [role for role in Membership.Role.values if role_allows(role, capability)]
    return (
        User.objects.filter(
            is_active=True, memberships__unit_id__in=chain, memberships__role__in=roles
        )
        .distinct()
        .order_by("username")
    )


def data_flags(item_ids: list[int]) -> dict[int, list[str]]:
    """The radar's personal-data flags of these items, as labels (R33, R34), in one query."""
    from narvaro.radar.selectors import item_flags
    from narvaro.radar.sensitive import FLAG_LABELS

    return {
        item_id: [str(FLAG_LABELS.get(flag, flag)) for flag in flags]
        for item_id, flags in item_flags(item_ids).items()
    }


def suggested_reason(item: Item) -> str:
    """The reason the radar's flags suggest: a personnummer (R33) or sensitive data (R34)."""
    from narvaro.radar.selectors import item_flags
    from narvaro.radar.sensitive import IDENTITY_FLAGS

    flags = set(item_flags([item.pk]).get(item.pk, []))
    if flags & IDENTITY_FLAGS:
        return "personnummer"
    return "sensitive_data" if flags else ""


def alerts_for_accounts(account_ids: list[int]) -> QuerySet[SupervisionAlert]:
    return SupervisionAlert.objects.filter(
        account_id__in=account_ids, resolved_at__isnull=True
    ).select_related("account")
