"""Connecting a Mastodon account by signing in on its instance (OAuth authorization code).

1. `oauth_begin`: the person names the instance on the account's connect page. Narvaro's
   app registration on that instance is reused, or made once (`OAuthClient`, the client
   secret encrypted like the tokens, the registration audited). A random `state` is kept in
   the person's session with the account and the instance; the browser goes to the
   instance's `/oauth/authorize`.
2. `oauth_complete`: the instance sends the browser back to the callback with `code` and
   `state`. The state is taken from the session (once: a replayed callback finds nothing),
   must be younger than ten minutes and name the same account; the code is exchanged for a
   token, the token is checked against the account (it must belong to the registered
   handle) and stored encrypted through `connection_save`, which audits the change. The
   token is never shown.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from narvaro.channels.connectors.base import ConnectorError
from narvaro.channels.harvest import build_connector, connection_save
from narvaro.channels.models import Account, Connection, OAuthClient
from narvaro.channels.tokens import decrypt_credentials, encrypt_credentials
from narvaro.core.audit_summaries import APP_REGISTERED, audit_summary
from narvaro.core.models import AuditEvent, User
from narvaro.core.services import audit_record

SESSION_KEY = "narvaro_oauth_states"
STATE_TTL = 600  # seconds a sign-in may take
MAX_PENDING = 5  # sign-ins one session may have open at once


@dataclass(frozen=True)
class PendingSignIn:
    account_id: int
    base_url: str
    redirect_uri: str


def instance_url_clean(value: str) -> str:
    """The instance's origin (https, or http on loopback for a local test server)."""
    value = value.strip().rstrip("/")
    if "://" not in value:
        value = f"https://{value}"
    parts = urlsplit(value)
    host = parts.hostname or ""
    if not host or parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValidationError(_("Give the instance's address, e.g. https://mastodon.example."))
    if parts.scheme != "https" and host not in {"127.0.0.1", "localhost", "::1"}:
        raise ValidationError(_("The instance's address must start with https://."))
    return f"{parts.scheme}://{parts.netloc}"


def oauth_client_get_or_register(
    *, actor: User, account: Account, base_url: str, redirect_uri: str
) -> OAuthClient:
    """Narvaro's registration on the instance for this redirect address, made once."""
    from narvaro.channels.connectors.mastodon import OAUTH_SCOPES, oauth_register

    scopes = " ".join(OAUTH_SCOPES)
    found = OAuthClient.objects.filter(
        platform="mastodon", base_url=base_url, redirect_uri=redirect_uri, scopes=scopes
    ).first()
    if found is not None:
        return found
    client = oauth_register(base_url, redirect_uri)
    try:
        with transaction.atomic():
            found = OAuthClient.objects.create(
                platform="mastodon",
                base_url=base_url,
                redirect_uri=redirect_uri,
                scopes=scopes,
                client_id=client["client_id"],
                client_secret_encrypted=encrypt_credentials(
                    {"client_secret": client["client_secret"]}
                ),
            )
    except IntegrityError:
        # Another sign-in registered at the same moment: use that one.
        return OAuthClient.objects.get(
            platform="mastodon", base_url=base_url, redirect_uri=redirect_uri, scopes=scopes
        )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.SECURITY,
        target=account,
        unit_id=account.unit_id,
        summary=audit_summary(APP_REGISTERED),
        changes={"instance": [None, base_url], "redirect": [None, redirect_uri]},
    )
    return found


def _client_dict(client: OAuthClient) -> dict[str, str]:
    secret = decrypt_credentials(client.client_secret_encrypted)["client_secret"]
    return {"client_id": client.client_id, "client_secret": secret}


def _pending(session: SessionBase) -> dict[str, dict[str, Any]]:
    now = time.time()
    pending = {
        state: entry
        for state, entry in dict(session.get(SESSION_KEY) or {}).items()
        if isinstance(entry, dict) and now - float(entry.get("at", 0)) < STATE_TTL
    }
    return pending


def oauth_begin(
    *, actor: User, session: SessionBase, account: Account, base_url: str, redirect_uri: str
) -> str:
    """Start signing in: return the instance's authorization address (state kept in session)."""
    from narvaro.channels.connectors.mastodon import oauth_authorize_url

    client = oauth_client_get_or_register(
        actor=actor, account=account, base_url=base_url, redirect_uri=redirect_uri
    )
    state = secrets.token_urlsafe(32)
    pending = _pending(session)
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda s: float(pending[s]["at"])))
    pending[state] = {
        "account": account.pk,
        "instance": base_url,
        "redirect": redirect_uri,
        "at": time.time(),
    }
    session[SESSION_KEY] = pending
    return oauth_authorize_url(base_url, _client_dict(client), redirect_uri, state=state)


def oauth_state_take(session: SessionBase, state: str) -> PendingSignIn | None:
    """The sign-in this state belongs to, removed from the session; None if unknown or old."""
    pending = _pending(session)
    entry = None
    for known in list(pending):
        if secrets.compare_digest(known.encode(), state.encode()):
            entry = pending.pop(known)
    session[SESSION_KEY] = pending
    if entry is None:
        return None
    return PendingSignIn(
        account_id=int(entry["account"]),
        base_url=str(entry["instance"]),
        redirect_uri=str(entry["redirect"]),
    )


def oauth_complete(
    *, actor: User, account: Account, sign_in: PendingSignIn, code: str
) -> Connection:
    """Exchange the code, check the token belongs to the account, store it encrypted."""
    from narvaro.channels.connectors.mastodon import OAUTH_SCOPES, oauth_exchange, oauth_revoke

    client = OAuthClient.objects.get(
        platform="mastodon",
        base_url=sign_in.base_url,
        redirect_uri=sign_in.redirect_uri,
        scopes=" ".join(OAUTH_SCOPES),
    )
    client_values = _client_dict(client)
    token = oauth_exchange(sign_in.base_url, client_values, code, sign_in.redirect_uri)
    credentials = {"access_token": token, "client_id": client.client_id}
    connector = build_connector(
        platform="mastodon", base_url=sign_in.base_url, credentials=credentials
    )
    try:
        profile = connector.verify()
    except ConnectorError as exc:
        raise ValidationError(_("The instance did not accept the new token: %s") % exc) from exc
    if profile.handle != account.handle:
        oauth_revoke(sign_in.base_url, client_values, token)
        raise ValidationError(
            _("You signed in as %(other)s, not as %(handle)s. Nothing was stored.")
            % {"other": profile.handle, "handle": account.handle}
        )
    return connection_save(
        actor=actor,
        account=account,
        base_url=sign_in.base_url,
        credentials=credentials,
        profile=profile,
    )
