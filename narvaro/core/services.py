"""Writes that belong to the core: the audit log and people."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from narvaro.core.models import AuditEvent, User


def _client_ip(request: HttpRequest | None) -> str | None:
    from narvaro.lib.net import client_ip

    return client_ip(request) if request is not None else None


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    unit_id: int | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one event to the audit log.

    Called inside the same transaction as the change it records, so a change that rolls back
    leaves no log line and a logged change cannot be lost.
    """
    event = AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=(str(actor) if actor is not None and actor.pk else "system"),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:500] if target is not None else "",
        unit_id=unit_id,
        summary=summary[:500],
        changes=changes or {},
        ip_address=_client_ip(request),
    )
    event.full_clean()
    event.save()
    return event


def model_changes(
    before: dict[str, Any], after: models.Model, fields: list[str]
) -> dict[str, list[Any]]:
    """Field → [old, new] for the fields that differ, as JSON-safe text."""
    diff: dict[str, list[Any]] = {}
    for field in fields:
        old, new = before.get(field), getattr(after, field)
        if old != new:
            diff[field] = [_jsonable(old), _jsonable(new)]
    return diff


def model_snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The current values of `fields`, to diff against after a change."""
    return {field: getattr(instance, field) for field in fields}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if hasattr(value, "all"):
        return sorted(str(item) for item in value.all())
    return str(value)


USER_TRACKED_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "title",
    "org_role",
    "is_active",
]


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    org_role: str = "",
    password: str | None = None,
) -> User:
    """Create a person. Admins also get Django admin access."""
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        title=title,
        org_role=org_role,
    )
    _apply_org_role_flags(user)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        target=user,
        summary=f"person {username} created" + (f" as {org_role}" if org_role else ""),
    )
    return user


@transaction.atomic
def user_update(
    *, actor: User | None, user: User, request: HttpRequest | None = None, **fields: Any
) -> User:
    """Change a person's details or organisation-wide role; role changes are logged as grants."""
    tracked = USER_TRACKED_FIELDS
    # Compare with the stored row: a ModelForm has already written the new values onto `user`.
    before = model_snapshot(User.objects.get(pk=user.pk), tracked)
    for name, value in fields.items():
        if name not in tracked:
            raise ValueError(f"user_update cannot change {name!r}")
        setattr(user, name, value)
    # An admin who demotes or deactivates themselves may leave nobody able to undo it.
    demotes_self = (
        actor is not None
        and actor.pk == user.pk
        and before["org_role"] == User.OrgRole.ADMIN
        and (user.org_role != User.OrgRole.ADMIN or not user.is_active)
    )
    if demotes_self:
        raise ValidationError(_("You cannot remove your own administrator role or access."))
    _apply_org_role_flags(user)
    user.full_clean()
    user.save()
    diff = model_changes(before, user, tracked)
    if diff:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.GRANT if "org_role" in diff else AuditEvent.Action.UPDATE,
            target=user,
            changes=diff,
            request=request,
        )
    return user


def _apply_org_role_flags(user: User) -> None:
    # Django admin is for Narvaro admins only; the flags follow the role, never the reverse.
    is_admin = user.org_role == User.OrgRole.ADMIN
    user.is_staff = is_admin
    user.is_superuser = is_admin


def password_reset_send(*, request: HttpRequest, user: User) -> None:
    """E-mail `user` a link to choose a password (also for new people without one).

    The link is built from the request (the host the admin is using), the text is in the
    organisation's language.

    Django's PasswordResetForm skips people without a usable password, which is exactly
    the new person an admin has just added, so the mail is built here from the same parts.
    """
    from django.contrib.auth.tokens import default_token_generator
    from django.contrib.sites.shortcuts import get_current_site
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    if not user.email:
        return
    context = {
        "user": user,
        "domain": get_current_site(request).domain,
        "protocol": "https" if request.is_secure() else "http",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }
    # The organisation's language, not the admin's: the new person has chosen none yet.
    with translation.override(settings.LANGUAGE_CODE):
        subject = "".join(
            render_to_string("core/email/password_reset_subject.txt", context).splitlines()
        )
        body = render_to_string("core/email/password_reset.txt", context)
    send_mail(subject, body, None, [user.email])
