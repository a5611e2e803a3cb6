"""Reads for the core: the audit log, scoped to who may read it."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from narvaro.core.models import AuditEvent, User


def audit_event_list_for_user(user: User, *, q: str = "", action: str = "") -> QuerySet[AuditEvent]:
    """The audit events `user` may read.

    Admins and registrars read the whole log. A unit manager reads the events about the
    units they manage. Everyone else reads nothing.
    """
    from narvaro.organisation.roles import Capability
    from narvaro.organisation.selectors import unit_access

    events = AuditEvent.objects.select_related("actor")
    if action:
        events = events.filter(action=action)
    if q:
        events = events.filter(
            Q(target_repr__icontains=q) | Q(summary__icontains=q) | Q(actor_name__icontains=q)
        )
    if user.is_org_admin or user.is_registrar:
        return events
    managed = unit_access(user).unit_ids(Capability.MANAGE)
    if managed is None:
        return events
    if not managed:
        return events.none()
    return events.filter(unit_id__in=managed)


def audit_events_for_object(target_type: str, target_id: int | str) -> QuerySet[AuditEvent]:
    """The history of one object (callers check access to the object first)."""
    return AuditEvent.objects.select_related("actor").filter(
        target_type=target_type, target_id=str(target_id)
    )


def user_list_for_user(user: User) -> QuerySet[User]:
    """People `user` may list: admins see everyone; managers see everyone to pick members from."""
    from django.db.models import Exists, OuterRef
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from narvaro.organisation.roles import Capability
    from narvaro.organisation.selectors import unit_access

    people = User.objects.annotate(
        has_authenticator=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    )
    if user.is_org_admin or unit_access(user).unit_ids(Capability.MANAGE):
        return people
    return people.none()


def user_has_confirmed_device(user: User) -> bool:
    """True when `user` has a confirmed authenticator app (TOTP) registered."""
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))


def overview_for_user(user: User) -> dict[str, object]:
    """What the start page shows this person: their roles, their accounts, what needs them."""
    from narvaro.channels.selectors import account_state_counts_for_user, accounts_needing_attention
    from narvaro.organisation.selectors import memberships_of_user

    missing_second_factor: list[User] = []
    if user.is_org_admin:
        # People whose role needs a second factor but who have not registered one yet: they
        # will be stopped at their next sign-in, so the admin should know beforehand.
        candidates = (
            user_list_for_user(user)
            .filter(is_active=True)
            .exclude(totpdevice__confirmed=True)
            .filter(Q(org_role__gt="") | Q(is_superuser=True))
        )
        missing_second_factor = [person for person in candidates if person.requires_two_factor]
    return {
        "missing_second_factor": missing_second_factor,
        "memberships": list(memberships_of_user(user)),
        "account_counts": account_state_counts_for_user(user),
        "attention": list(accounts_needing_attention(user)[:10]),
        "recent_events": list(audit_event_list_for_user(user)[:8]),
    }
