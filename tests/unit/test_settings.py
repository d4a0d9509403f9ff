from __future__ import annotations

from pathlib import Path

import pytest

from ledger.settings import Settings


def test_defaults_need_no_environment():
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert (settings.host, settings.port, settings.data_dir) == (
        "127.0.0.1",
        8000,
        Path(".ledger-data"),
    )


def test_values_are_read_and_typed():
    settings = Settings.from_env(
        {
            "LEDGER_PORT": "9000",
            "LEDGER_DATA_DIR": "/srv/ledger",
            "LEDGER_POLL_INTERVAL": "0.5",
            "LEDGER_HOST": " ",
        }
    )
    assert (settings.port, settings.data_dir, settings.poll_interval) == (
        9000,
        Path("/srv/ledger"),
        0.5,
    )
    assert settings.host == "127.0.0.1", "a blank value means unset"


def test_secrets_never_show_in_a_repr():
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://u:hunter2@db/x", "LEDGER_ADMIN_TOKEN": "tok-123"}
    )
    assert "hunter2" not in repr(settings)
    assert "tok-123" not in repr(settings)
    assert str(settings.database_url) == "postgresql://u:hunter2@db/x"


def test_a_malformed_number_names_the_variable():
    with pytest.raises(ValueError, match="LEDGER_PORT='eighty'"):
        Settings.from_env({"LEDGER_PORT": "eighty"})


def test_a_session_secret_must_be_long_enough_to_sign_cookies():
    assert Settings.from_env({"LEDGER_SESSION_SECRET": "x" * 32}).session_secret == "x" * 32
    with pytest.raises(ValueError, match="LEDGER_SESSION_SECRET"):
        Settings.from_env({"LEDGER_SESSION_SECRET": "short"})


def test_the_public_url_is_an_http_address_without_a_trailing_slash():
    settings = Settings.from_env({"LEDGER_PUBLIC_URL": "https://ceu.example.org/ledger/"})
    assert settings.public_url == "https://ceu.example.org/ledger"
    for bad in ("ceu.example.org", "ftp://ceu.example.org", "https://x.org/?q=1", "https://"):
        with pytest.raises(ValueError, match="LEDGER_PUBLIC_URL"):
            Settings.from_env({"LEDGER_PUBLIC_URL": bad})


def test_serve_names_each_required_setting_that_is_missing():
    assert Settings.from_env({}).missing_to_serve() == [
        "LEDGER_PUBLIC_URL",
        "LEDGER_SESSION_SECRET",
        "LEDGER_KEY_ENCRYPTION_KEY",
    ]
    complete = {
        "LEDGER_PUBLIC_URL": "https://ceu.example.org",
        "LEDGER_SESSION_SECRET": "s" * 32,
        "LEDGER_KEY_ENCRYPTION_KEY": "k",
    }
    assert Settings.from_env(complete).missing_to_serve() == []
