"""The status list's bit order and size, and the key-encryption key's sources."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ledger.credentials.kek import KEY_FILE, KeyEncryption, WrongKeyEncryptionKey
from ledger.credentials.status_list import LIST_SIZE, bit, decode_list, encode_list
from ledger.settings import Secret, Settings


def test_index_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    bits = decode_list(encode_list([0, 9, LIST_SIZE - 1]))
    assert len(bits) == LIST_SIZE // 8 == 16_384
    assert bits[0] == 0b1000_0000
    assert bits[1] == 0b0100_0000
    assert bits[-1] == 0b0000_0001
    assert [i for i in range(16) if bit(bits, i)] == [0, 9]


def test_the_same_bits_always_encode_the_same() -> None:
    assert encode_list([5, 7]) == encode_list([7, 5])
    assert encode_list([]).startswith("u")


def test_a_set_key_encryption_key_that_is_not_a_fernet_key_stops_the_start(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="LEDGER_KEY_ENCRYPTION_KEY must be a Fernet key"):
        KeyEncryption.from_settings(Secret("too short"), tmp_path)


def test_the_environment_names_the_key_encryption_key() -> None:
    key = Fernet.generate_key().decode()
    settings = Settings.from_env({"LEDGER_KEY_ENCRYPTION_KEY": key})
    assert settings.key_encryption_key == key
    assert key not in repr(settings)


def test_without_a_key_the_data_directory_gets_one_of_its_own_once(tmp_path: Path) -> None:
    first = KeyEncryption.from_settings(None, tmp_path)
    assert not (tmp_path / KEY_FILE).exists(), "made when first needed, not before"
    sealed = first.encrypt(b"a signing key")
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    again = KeyEncryption.from_settings(None, tmp_path)
    assert again.decrypt(sealed) == b"a signing key"
    other = KeyEncryption.from_settings(None, tmp_path / "elsewhere")
    with pytest.raises(WrongKeyEncryptionKey):
        other.decrypt(sealed)
