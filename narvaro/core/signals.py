"""Sign-in events go to the audit log (who signed in, who failed, from where)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from narvaro.core.middleware import SESSION_HAS_DEVICE
from narvaro.core.models import AuditEvent
from narvaro.core.selectors import user_has_confirmed_device
from narvaro.core.services import audit_record


@receiver(user_logged_in)
def _log_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditEvent.Action.SIGN_IN, target=user, request=request)
    if request is not None and hasattr(request, "session"):
        # Remember once per session, so the middleware needs no query on every request.
        request.session[SESSION_HAS_DEVICE] = user_has_confirmed_device(user)


@receiver(user_logged_out)
def _log_sign_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditEvent.Action.SIGN_OUT, target=user, request=request)


@receiver(user_login_failed)
def _log_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    audit_record(
        actor=None,
        action=AuditEvent.Action.SIGN_IN_FAILED,
        summary=f"username {credentials.get('username', '')!r}"[:500],
        request=request,
    )
