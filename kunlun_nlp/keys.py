"""API keys with roles, in SQLite in the data folder (`<data>/keys.sqlite3`).

A key is a random token shown once, when it is created; only its SHA-256 is stored, beside the
key's name (what every write through the API records as who did it), its role and when it was
created or revoked. A plain hash is enough here, unlike for passwords: a token carries 256 random
bits, so there is nothing to guess from a hash, and checking a request is one indexed lookup.

Revoking keeps the row (its name stays in what it wrote, so it is never given to another key).
The CLI manages keys locally, with no key of its own; the API's admins manage them over HTTP.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

# Who may do what (api/auth.py applies it): every role reads; intake ingests and tags; trainer
# corrects, imports labels, trains, promotes and reviews; admin does all that and manages keys.
ROLES: tuple[str, ...] = ("reader", "intake", "trainer", "admin")
TOKEN_PREFIX = "kn_"  # tells a Kunlun key apart in a config file or a leaked-secret scan
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$"  # one path segment: DELETE /keys/{name}
FIRST_KEY_HINT = "kunlun-nlp keys create --role admin --name NAME"


class KeyStoreError(ValueError):
    """A key that cannot be created or revoked as asked; the message says why."""


class KeyExistsError(KeyStoreError):
    pass


class UnknownKeyError(KeyStoreError):
    pass


@dataclass(frozen=True)
class KeyRecord:
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class KeyStore:
    """Opened once per process (the service holds the API's); safe across the API's threads."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        if new:
            os.chmod(path, 0o600)  # hashes only, but nobody else on the machine needs to read them
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS keys (hash TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, "
            "created_at TEXT NOT NULL, revoked_at TEXT)"
        )
        self._lock = threading.Lock()

    def create(self, name: str, role: str) -> str:
        """A new key's token, to hand to its holder: it is not stored and cannot be shown again."""
        check_name(name)
        check_role(role)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(timezone.utc).isoformat()
        try:
            with self._lock:
                self._db.execute("INSERT INTO keys VALUES (?, ?, ?, ?, NULL)", (_hash(token), name, role, now))
        except sqlite3.IntegrityError:
            raise KeyExistsError(f"a key named {name!r} exists already (names are never reused, revoked ones included)") from None
        return token

    def verify(self, token: str) -> KeyRecord | None:
        """The active key `token` is, or None (unknown, malformed or revoked)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT name, role, created_at, revoked_at FROM keys WHERE hash = ?", (_hash(token),)
            ).fetchone()
        record = _record(row) if row else None
        return record if record is not None and not record.revoked else None

    def list(self) -> list[KeyRecord]:
        with self._lock:
            rows = self._db.execute("SELECT name, role, created_at, revoked_at FROM keys ORDER BY created_at, name").fetchall()
        return [_record(row) for row in rows]

    def get(self, name: str) -> KeyRecord | None:
        with self._lock:
            row = self._db.execute("SELECT name, role, created_at, revoked_at FROM keys WHERE name = ?", (name,)).fetchone()
        return _record(row) if row else None

    def revoke(self, name: str) -> KeyRecord:
        """Revoke the key named `name` from its next request on; revoking it again changes nothing."""
        now = datetime.now(timezone.utc).isoformat()
        with self._lock:
            self._db.execute("UPDATE keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", (now, name))
        record = self.get(name)
        if record is None:
            raise UnknownKeyError(f"no key named {name!r}")
        return record

    def any_keys(self) -> bool:
        """Whether any key was ever created (a fresh install has none, and says how to make one)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM keys LIMIT 1").fetchone() is not None

    def close(self) -> None:
        self._db.close()


def check_role(role: str) -> str:
    if role not in ROLES:
        raise KeyStoreError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


def check_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise KeyStoreError(f"invalid key name {name!r}: letters, digits and . _ @ -, starting with a letter or digit, at most 100")
    return name


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _record(row: tuple) -> KeyRecord:
    name, role, created_at, revoked_at = row
    return KeyRecord(name, role, datetime.fromisoformat(created_at), datetime.fromisoformat(revoked_at) if revoked_at else None)
