"""Bearer API keys: issue, store only their SHA-256 hash in a keys file, and check them per request.

A key reads `mck.<hospital>.<key id>.<secret>`; the secret carries 256 random bits, so a plain
SHA-256 of the whole key is a safe verifier (no salt or slow hash needed for a random secret) and
lets every hospital's service on one machine share one file: `MEDCHAIN_HOME/api-keys.json`.
A service answers 401 for a missing, malformed, unknown or revoked key and 403 for a valid key that
belongs to another hospital. See docs/adr/0008-api-keys-file.md.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from medchain.common.errors import MedChainError, PermissionDeniedError, ValidationError
from medchain.common.hashing import sha256_hex

KEYS_FILE_NAME = "api-keys.json"
KEY_PREFIX = "mck"
_HOSPITAL = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_KEY = re.compile(r"^mck\.([a-z0-9][a-z0-9-]{0,31})\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$")

bearer_scheme = HTTPBearer(auto_error=False, description="A MedChain API key: `mck.<hospital>...`")


class AuthenticationError(MedChainError):
    """No usable credentials: missing, malformed, unknown or revoked key (HTTP 401)."""


class WrongHospitalError(PermissionDeniedError):
    """A valid key of another hospital (HTTP 403)."""


@dataclass(frozen=True)
class ApiKeyRecord:
    """What the keys file holds about one key: never the key itself."""

    key_id: str
    hospital: str
    client: str
    sha256: str
    created_at: str
    revoked: bool = False


@dataclass(frozen=True)
class IssuedApiKey:
    """A freshly issued key: `token` is shown once and never stored."""

    token: str
    record: ApiKeyRecord


@dataclass(frozen=True)
class Caller:
    """The authenticated client of one request."""

    hospital: str
    client: str
    key_id: str


def keys_file(home: Path) -> Path:
    """Where the keys file of a MEDCHAIN_HOME lives."""
    return home / KEYS_FILE_NAME


class ApiKeyFile:
    """The keys file: JSON `{"keys": [ApiKeyRecord...]}`, written atomically under a file lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[tuple[int, int], dict[str, ApiKeyRecord]] | None = None
        self._lock = threading.Lock()

    def issue(self, hospital: str, client: str) -> IssuedApiKey:
        """Create a key for a client of a hospital; only its hash is written."""
        if not _HOSPITAL.match(hospital):
            raise ValidationError(f"hospital id {hospital!r} must match {_HOSPITAL.pattern}")
        if not client.strip():
            raise ValidationError("a key needs a client name", field="client")
        key_id = secrets.token_hex(8)
        token = f"{KEY_PREFIX}.{hospital}.{key_id}.{secrets.token_urlsafe(32)}"
        record = ApiKeyRecord(
            key_id=key_id,
            hospital=hospital,
            client=client.strip(),
            sha256=sha256_hex(token.encode()),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._locked():
            records = self._read()
            records[key_id] = record
            self._write(records)
        return IssuedApiKey(token=token, record=record)

    def revoke(self, key_id: str) -> None:
        """Mark a key revoked; later requests with it get 401."""
        with self._locked():
            records = self._read()
            if key_id not in records:
                raise ValidationError(f"no API key with id {key_id!r}", field="key_id")
            old = records[key_id]
            records[key_id] = ApiKeyRecord(**{**asdict(old), "revoked": True})
            self._write(records)

    def records(self) -> list[ApiKeyRecord]:
        """Every key record, revoked ones included."""
        return list(self._current().values())

    def authenticate(self, token: str) -> ApiKeyRecord:
        """The record of a valid, unrevoked key; AuthenticationError otherwise."""
        match = _KEY.match(token)
        if not match:
            raise AuthenticationError("malformed API key")
        record = self._current().get(match.group(2))
        presented = sha256_hex(token.encode())
        if record is None or not hmac.compare_digest(record.sha256, presented):
            raise AuthenticationError("unknown API key")
        if record.revoked:
            raise AuthenticationError("revoked API key")
        return record

    def _current(self) -> dict[str, ApiKeyRecord]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._cache is None or self._cache[0] != stamp:
                self._cache = (stamp, self._read())
            return self._cache[1]

    def _read(self) -> dict[str, ApiKeyRecord]:
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {item["key_id"]: ApiKeyRecord(**item) for item in raw.get("keys", [])}

    def _write(self, records: dict[str, ApiKeyRecord]) -> None:
        body = json.dumps({"keys": [asdict(r) for r in records.values()]}, indent=2)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(tmp, self.path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def require_api_key(
    keys: ApiKeyFile, hospital: str
) -> Callable[[HTTPAuthorizationCredentials | None], Awaitable[Caller]]:
    """A FastAPI dependency admitting only keys of `hospital`; it raises AuthenticationError (401)
    or WrongHospitalError (403), which the app maps to responses."""

    # async, though it never awaits: a sync dependency costs every request a worker-thread hop,
    # and the check is one stat() and one SHA-256
    async def authenticated_caller(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),  # noqa: B008
    ) -> Caller:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise AuthenticationError("a bearer API key is required")
        record = keys.authenticate(credentials.credentials)
        if record.hospital != hospital:
            raise WrongHospitalError(
                f"this API key belongs to hospital {record.hospital!r}, not {hospital!r}"
            )
        return Caller(hospital=record.hospital, client=record.client, key_id=record.key_id)

    return authenticated_caller


def main(argv: list[str]) -> int:
    """`python -m medchain.common.auth issue HOSPITAL CLIENT | revoke KEY_ID | list`."""
    from medchain.common.settings import get_settings

    keys = ApiKeyFile(keys_file(get_settings().home))
    if len(argv) == 4 and argv[1] == "issue":
        issued = keys.issue(argv[2], argv[3])
        print(issued.token)  # shown once; only its hash is kept
        return 0
    if len(argv) == 3 and argv[1] == "revoke":
        keys.revoke(argv[2])
        return 0
    if len(argv) == 2 and argv[1] == "list":
        for record in keys.records():
            state = "revoked" if record.revoked else "active"
            print(f"{record.key_id}  {record.hospital}  {record.client}  {state}")
        return 0
    print("usage: python -m medchain.common.auth issue HOSPITAL CLIENT | revoke KEY_ID | list")
    return 2


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv))
