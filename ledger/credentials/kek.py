"""The key-encryption key: what the signing keys are encrypted with at rest.

From LEDGER_KEY_ENCRYPTION_KEY (a Fernet key: 32 random bytes, url-safe base64) when set.
Unset, a key of the data directory: `<data_dir>/key-encryption-key`, made once with mode 0600
and read back on every start, so that `make run` and the tests need nothing set.  That file
sits beside an embedded database, so it protects a copied dump of the database, not a copied
data directory: a deployment sets the variable (from its secret store) instead.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

if TYPE_CHECKING:
    from pathlib import Path

    from ledger.settings import Secret

__all__ = ["KEY_FILE", "KeyEncryption", "WrongKeyEncryptionKey"]

KEY_FILE = "key-encryption-key"


class WrongKeyEncryptionKey(Exception):
    """A signing key cannot be decrypted: the key-encryption key is not the one it was
    encrypted with."""


class KeyEncryption:
    """Fernet under the key-encryption key, which `load` gives on first use (so that an app
    that never signs never makes a key file)."""

    def __init__(self, load: Callable[[], bytes]) -> None:
        self._load = load
        self._fernet: Fernet | None = None

    @classmethod
    def from_settings(cls, key: Secret | None, data_dir: Path) -> KeyEncryption:
        """A set key is checked at once (a bad one stops the start); the data directory's
        is read or made when first needed."""
        if key is None:
            return cls(functools.partial(_data_dir_key, data_dir))
        made = cls(key.encode)
        made.fernet()
        return made

    def fernet(self) -> Fernet:
        if self._fernet is None:
            try:
                self._fernet = Fernet(self._load())
            except ValueError as exc:
                raise ValueError(
                    "LEDGER_KEY_ENCRYPTION_KEY must be a Fernet key (32 bytes, url-safe base64)"
                ) from exc
        return self._fernet

    def encrypt(self, secret: bytes) -> bytes:
        return self.fernet().encrypt(secret)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self.fernet().decrypt(token)
        except InvalidToken as exc:
            raise WrongKeyEncryptionKey(
                "a credential signing key does not decrypt with this key-encryption key"
            ) from exc


def _data_dir_key(data_dir: Path) -> bytes:
    """The data directory's key, made on first use.  Written to a file of its own, then
    linked into place (link fails if the name exists), so that two processes starting at
    once agree on the one linked first and never read a half-written key."""
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    draft = data_dir / f".{KEY_FILE}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key())
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_bytes().strip()
