"""Two-factor authentication with authenticator apps (TOTP) and backup codes (django-otp)."""

from __future__ import annotations

import io
import secrets

import qrcode
import qrcode.image.svg
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from narvaro.core.middleware import SESSION_HAS_DEVICE
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record
from narvaro.lib.types import AuthedRequest

BACKUP_CODE_COUNT = 10


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (created once, reused on reload)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL of `device` as an inline SVG QR code (no external image service)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@transaction.atomic
def totp_device_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Confirm `device` if `token` is a current code from it, and sign the session in with it."""
    if not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=device.user, confirmed=True).delete()
    device.confirmed = True
    device.save()
    otp_login(request, device)
    request.session[SESSION_HAS_DEVICE] = True
    audit_record(
        actor=device.user,
        action=AuditEvent.Action.SECURITY,
        target=device.user,
        summary="authenticator app registered",
        request=request,
    )
    return True


def two_factor_verify(*, request: AuthedRequest, token: str) -> bool:
    """Check a code against the person's devices and mark the session as verified."""
    device = match_token(request.user, token)
    if device is None:
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.SIGN_IN_FAILED,
            target=request.user,
            summary="wrong second-factor code",
            request=request,
        )
        return False
    otp_login(request, device)
    return True


@transaction.atomic
def backup_codes_create(
    *, user: User, count: int = BACKUP_CODE_COUNT, request: HttpRequest | None = None
) -> list[str]:
    """Replace `user`'s backup codes with `count` new single-use ones and return them.

    Earlier codes stop working. Only the person sees the codes; the log records that new
    ones were made.
    """
    # Revoke every earlier code, also those added with `addstatictoken` or the admin.
    StaticToken.objects.filter(device__user=user).delete()
    device, _ = StaticDevice.objects.get_or_create(user=user, name="backup")
    codes = [secrets.token_hex(4) for _ in range(count)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit_record(
        actor=user,
        action=AuditEvent.Action.SECURITY,
        target=user,
        summary=f"{count} new backup codes created; earlier ones revoked",
        request=request,
    )
    return codes


@transaction.atomic
def totp_device_create_confirmed(*, user: User) -> TOTPDevice:
    """A confirmed authenticator for `user` (the demo prints its secret for its demo logins)."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
