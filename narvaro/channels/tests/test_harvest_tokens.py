"""Connection credentials at rest: Fernet with a key from the environment or NARVARO_HOME."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from narvaro.channels import tokens


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("NARVARO_TOKEN_KEY", raising=False)
    monkeypatch.delenv("NARVARO_TOKEN_KEY_FILE", raising=False)
    tokens.reset_key_cache()
    return tmp_path


def test_a_key_is_generated_once_into_narvaro_home(no_key: Path) -> None:
    with override_settings(NARVARO_HOME=no_key):
        secret = tokens.encrypt_credentials({"access_token": "abc"})
        key_file = no_key / "token_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        first_key = key_file.read_text()
        tokens.reset_key_cache()
        assert tokens.decrypt_credentials(secret) == {"access_token": "abc"}
        assert key_file.read_text() == first_key
    assert "abc" not in secret


def test_keys_rotate_and_a_wrong_key_is_a_clear_error(
    no_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("NARVARO_TOKEN_KEY", old)
    secret = tokens.encrypt_credentials({"access_token": "abc"})
    monkeypatch.setenv("NARVARO_TOKEN_KEY", f"{new},{old}")
    tokens.reset_key_cache()
    assert tokens.decrypt_credentials(secret) == {"access_token": "abc"}
    monkeypatch.setenv("NARVARO_TOKEN_KEY", new)
    tokens.reset_key_cache()
    with pytest.raises(tokens.CredentialsUnreadable):
        tokens.decrypt_credentials(secret)
    monkeypatch.setenv("NARVARO_TOKEN_KEY", "not-a-key")
    tokens.reset_key_cache()
    with pytest.raises(ImproperlyConfigured, match="NARVARO_TOKEN_KEY"):
        tokens.encrypt_credentials({})


def test_the_key_file_variable_wins(no_key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = no_key / "key"
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    monkeypatch.setenv("NARVARO_TOKEN_KEY_FILE", str(key_file))
    monkeypatch.setenv("NARVARO_TOKEN_KEY", "ignored")
    secret = tokens.encrypt_credentials({"a": "b"})
    assert Fernet(key_file.read_text().strip().encode()).decrypt(secret.encode())
    monkeypatch.setenv("NARVARO_TOKEN_KEY_FILE", str(no_key / "missing"))
    tokens.reset_key_cache()
    with pytest.raises(ImproperlyConfigured, match="NARVARO_TOKEN_KEY_FILE"):
        tokens.encrypt_credentials({})
