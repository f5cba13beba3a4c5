"""Channel credentials encrypted at rest: Fernet keys from the settings, rotation without downtime.

The keys are ``DIALOGA_CREDENTIALS_KEYS`` (Fernet keys, comma separated, newest first),
or one made once and kept in ``DATA_DIR/credentials_key`` (mode 600). The newest key
encrypts; every key decrypts, so a new key can be put first, ``dialoga credentials
rotate`` re-encrypts what is stored, and only then is the old key taken away. A
credential is a small JSON object (tokens, app passwords); ``Secret`` keeps it out of
logs and reprs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from dialoga.core.errors import DialogaError
from dialoga.core.settings import Settings

KEY_FILE = "credentials_key"


class CredentialKeyError(DialogaError):
    """A stored credential cannot be read with the configured keys."""


@dataclass(frozen=True)
class Secret:
    """A credential's fields; printed, logged or shown, it is only ``Secret(***)``."""

    fields: dict[str, Any] = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__


class Vault:
    """Encrypts with the first key, decrypts with any."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise CredentialKeyError("no credentials key is configured")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        if settings.credentials_keys:
            keys = [key.strip().encode() for key in settings.credentials_keys.split(",")]
            return cls([key for key in keys if key])
        return cls([_key_on_disk(settings.data_dir / KEY_FILE)])

    def seal(self, secret: Secret) -> str:
        """The credential encrypted, as text fit for a database column."""
        plain = json.dumps(secret.fields, sort_keys=True).encode()
        return self._fernet.encrypt(plain).decode()

    def open(self, sealed: str) -> Secret:
        try:
            plain = self._fernet.decrypt(sealed.encode())
        except InvalidToken:
            raise CredentialKeyError(
                "a stored credential cannot be decrypted with the configured keys: was the "
                "old key removed before `dialoga credentials rotate` ran?"
            ) from None
        return Secret(json.loads(plain))

    def rotate(self, sealed: str) -> str:
        """The same credential encrypted with the newest key."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise CredentialKeyError(
                "a stored credential cannot be decrypted to rotate it"
            ) from None


def new_key() -> str:
    """A fresh Fernet key, for ``DIALOGA_CREDENTIALS_KEYS``."""
    return Fernet.generate_key().decode()


def _key_on_disk(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes().strip()
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key())
    return path.read_bytes().strip()
