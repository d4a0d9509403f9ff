"""Settings, read once from the environment, typed, and passed in (never read again later)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import msgspec
import msgspec.structs

__all__ = ["LOG_LEVELS", "REQUIRED_TO_SERVE", "Secret", "Settings"]

LOG_LEVELS = ("debug", "info", "warning", "error")
_PUBLIC_URL = re.compile(r"https?://[^/\s?#]+(/[^\s?#]*)?")
"""An absolute http(s) URL without query or fragment: the base every public URL extends."""


REQUIRED_TO_SERVE = {
    "public_url": "LEDGER_PUBLIC_URL",
    "session_secret": "LEDGER_SESSION_SECRET",
    "key_encryption_key": "LEDGER_KEY_ENCRYPTION_KEY",
}
"""The settings `serve` refuses to start without outside `--demo` (SPEC 6): without them the
service would sign what a request's Host names, forget every session at each restart, and
keep its signing keys beside the data they protect."""


class Secret(str):
    """A string that does not show itself in reprs, logs or tracebacks."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: Secret | None = None
    """A PostgreSQL DSN.  Unset: an embedded server is started in `data_dir`."""
    database_replica_urls: tuple[Secret, ...] = ()
    """DSNs of streaming read replicas (DATABASE_REPLICA_URLS, separated by spaces or commas):
    reads go there, waiting for a `Min-Position` (ledger/http/positions.py)."""
    data_dir: Path = Path(".ledger-data")
    """Where the embedded PostgreSQL keeps its files (LEDGER_DATA_DIR)."""
    host: str = "127.0.0.1"
    """Interface the HTTP server binds (LEDGER_HOST)."""
    port: int = 8000
    """Port the HTTP server binds (LEDGER_PORT)."""
    migrations_dir: Path = Path(__file__).resolve().parents[1] / "migrations"
    """The SQL migrations to apply (LEDGER_MIGRATIONS_DIR); the repo's by default."""
    admin_token: Secret | None = None
    """An admin bearer token guaranteed to exist at start (LEDGER_ADMIN_TOKEN)."""
    session_secret: Secret | None = None
    """Signs and encrypts the web pages' session and CSRF cookies (LEDGER_SESSION_SECRET, at
    least 32 characters).  Every API process behind one load balancer needs the same one.
    `serve` requires it outside `--demo`; unset (the demo, the tests), each process makes its
    own at start (sessions then live as long as the process)."""
    poll_interval: float = 1.0
    """Seconds a projector waits for a NOTIFY before it polls anyway (LEDGER_POLL_INTERVAL)."""
    pool_size: int = 10
    """Connections in the API's pool (LEDGER_POOL_SIZE)."""
    log_level: str = "info"
    """The least level `serve` logs: debug, info, warning or error (LEDGER_LOG_LEVEL)."""
    smtp_host: str | None = None
    """The SMTP server notices are sent through (LEDGER_SMTP_HOST).  Unset: notices are
    queued in the outbox and listed, but nobody sends them."""
    smtp_port: int = 25
    """Its port (LEDGER_SMTP_PORT); STARTTLS is used whenever the server offers it."""
    smtp_user: str | None = None
    """A login for the SMTP server, if it wants one (LEDGER_SMTP_USER)."""
    smtp_password: Secret | None = None
    """That login's password (LEDGER_SMTP_PASSWORD)."""
    smtp_from: str = "CEU Ledger <notices@localhost>"
    """The From address of every notice (LEDGER_SMTP_FROM)."""
    key_encryption_key: Secret | None = None
    """A Fernet key (32 random bytes, url-safe base64) that encrypts the credential signing
    keys at rest (LEDGER_KEY_ENCRYPTION_KEY).  `serve` requires it outside `--demo`; unset
    (the demo, the tests): a key file made once in `data_dir` (docs/credentials.md)."""
    public_url: str | None = None
    """The address the world reaches this service at, such as https://ceu.example.org: the one
    base of every URL written into credentials, status lists, PDFs, QR codes and mail
    (LEDGER_PUBLIC_URL).  Never a request's Host header, which its sender chooses.  `serve`
    refuses to start without it outside `--demo` (which uses its own listen address); the
    app cannot be built without it."""

    def missing_to_serve(self) -> list[str]:
        """The environment variables of REQUIRED_TO_SERVE that are not set."""
        return [env for name, env in REQUIRED_TO_SERVE.items() if getattr(self, name) is None]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of `environ` (the process's environment by default): each variable of
        `_FROM_ENV` that is set and not blank, read by its parser; the rest keep defaults."""
        env = os.environ if environ is None else environ
        fields: dict[str, object] = {}
        for name, key, parse in _FROM_ENV:
            if raw := env.get(key, "").strip():
                fields[name] = parse(key, raw)
        return msgspec.structs.replace(cls(), **fields)


_Parse = Callable[[str, str], object]
"""Reads one variable's value (its name, for the error message, and its stripped text)."""


def _secret(key: str, raw: str) -> Secret:
    return Secret(raw)


def _secrets(key: str, raw: str) -> tuple[Secret, ...]:
    return tuple(Secret(value) for value in raw.replace(",", " ").split())


def _session_secret(key: str, raw: str) -> Secret:
    if len(raw) < 32:
        raise ValueError(f"{key} must be at least 32 characters")
    return Secret(raw)


def _public_url(key: str, raw: str) -> str:
    if not _PUBLIC_URL.fullmatch(raw):
        raise ValueError(f"{key}={raw!r} is not an http(s) address such as https://ceu.example.org")
    return raw.rstrip("/")


def _path(key: str, raw: str) -> Path:
    return Path(raw)


def _log_level(key: str, raw: str) -> str:
    if raw.lower() not in LOG_LEVELS:
        raise ValueError(f"{key}={raw!r} is not one of {', '.join(LOG_LEVELS)}")
    return raw.lower()


def _typed(cast: Callable[[str], object]) -> _Parse:
    """A parser by `cast` (str, int, float) whose error names the variable and its value."""

    def parse(key: str, raw: str) -> object:
        try:
            return cast(raw)
        except ValueError as exc:
            raise ValueError(f"{key}={raw!r} is not a valid {cast.__name__}") from exc

    return parse


_FROM_ENV: tuple[tuple[str, str, _Parse], ...] = (
    ("database_url", "DATABASE_URL", _secret),
    ("database_replica_urls", "DATABASE_REPLICA_URLS", _secrets),
    ("data_dir", "LEDGER_DATA_DIR", _path),
    ("host", "LEDGER_HOST", _typed(str)),
    ("port", "LEDGER_PORT", _typed(int)),
    ("migrations_dir", "LEDGER_MIGRATIONS_DIR", _path),
    ("admin_token", "LEDGER_ADMIN_TOKEN", _secret),
    ("session_secret", "LEDGER_SESSION_SECRET", _session_secret),
    ("poll_interval", "LEDGER_POLL_INTERVAL", _typed(float)),
    ("pool_size", "LEDGER_POOL_SIZE", _typed(int)),
    ("log_level", "LEDGER_LOG_LEVEL", _log_level),
    ("smtp_host", "LEDGER_SMTP_HOST", _typed(str)),
    ("smtp_port", "LEDGER_SMTP_PORT", _typed(int)),
    ("smtp_user", "LEDGER_SMTP_USER", _typed(str)),
    ("smtp_password", "LEDGER_SMTP_PASSWORD", _secret),
    ("smtp_from", "LEDGER_SMTP_FROM", _typed(str)),
    ("key_encryption_key", "LEDGER_KEY_ENCRYPTION_KEY", _secret),
    ("public_url", "LEDGER_PUBLIC_URL", _public_url),
)
"""Each setting read from the environment: its field, its variable, its parser (in the order
of the fields)."""
