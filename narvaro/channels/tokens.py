"""Connection credentials encrypted at rest with Fernet.

The key comes from `NARVARO_TOKEN_KEY` (or the file `NARVARO_TOKEN_KEY_FILE` names); when
neither is set, a key is generated once into `$NARVARO_HOME/token_key` (mode 0600) and reused.
Several keys separated by commas rotate: the first encrypts, all decrypt (MultiFernet).
Losing the key means every connection must be reconnected; the archive itself is unaffected.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsUnreadable(Exception):
    """The stored credentials cannot be decrypted with the configured key(s)."""


def _configured_keys() -> str:
    file_path = os.environ.get("NARVARO_TOKEN_KEY_FILE", "")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"NARVARO_TOKEN_KEY_FILE={file_path}: {exc.strerror}"
            ) from exc
    configured = os.environ.get("NARVARO_TOKEN_KEY", "").strip()
    if configured:
        return configured
    key_file = Path(settings.NARVARO_HOME) / "token_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(Fernet.generate_key().decode())
    return key_file.read_text(encoding="utf-8").strip()


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    raw = _configured_keys()
    try:
        return MultiFernet([Fernet(key.strip()) for key in raw.split(",") if key.strip()])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "NARVARO_TOKEN_KEY is not a Fernet key (32 url-safe base64-encoded bytes; make one "
            'with `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`)'
        ) from exc


def reset_key_cache() -> None:
    _fernet.cache_clear()


def encrypt_credentials(credentials: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt_credentials(token: str) -> dict[str, str]:
    try:
        value = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsUnreadable(
            "the stored credentials cannot be decrypted with NARVARO_TOKEN_KEY"
        ) from exc
    if not isinstance(value, dict):
        raise CredentialsUnreadable("the stored credentials are not a JSON object")
    return {str(k): str(v) for k, v in value.items()}
