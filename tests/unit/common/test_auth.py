"""API keys: only hashes on disk; 401 without or with a bad key, 403 with another hospital's key."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from medchain.common.auth import (
    ApiKeyFile,
    AuthenticationError,
    Caller,
    WrongHospitalError,
    keys_file,
    require_api_key,
)
from medchain.common.errors import MedChainError, ValidationError


@pytest.fixture
def keys(tmp_path: Path) -> ApiKeyFile:
    return ApiKeyFile(keys_file(tmp_path))


def test_the_file_holds_a_hash_never_the_key(keys: ApiKeyFile) -> None:
    issued = keys.issue("h1", "hospital-it")

    text = keys.path.read_text()

    assert issued.token.startswith("mck.h1.")
    assert issued.token not in text
    assert issued.token.rsplit(".", 1)[1] not in text
    assert json.loads(text)["keys"][0]["sha256"] == issued.record.sha256
    assert stat.S_IMODE(keys.path.stat().st_mode) == 0o600


def test_authenticate_accepts_the_key_and_refuses_anything_else(keys: ApiKeyFile) -> None:
    token = keys.issue("h1", "hospital-it").token

    assert keys.authenticate(token).client == "hospital-it"
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in ("", "Bearer x", tampered, token.replace("mck.h1.", "mck.h2."), token + "x"):
        with pytest.raises(AuthenticationError):
            keys.authenticate(bad)


def test_a_revoked_key_stops_working(keys: ApiKeyFile) -> None:
    issued = keys.issue("h1", "hospital-it")

    keys.revoke(issued.record.key_id)

    with pytest.raises(AuthenticationError, match="revoked"):
        keys.authenticate(issued.token)
    with pytest.raises(ValidationError):
        keys.revoke("0000000000000000")


def test_another_process_issuing_a_key_is_seen_without_restart(keys: ApiKeyFile) -> None:
    keys.issue("h1", "first")
    later = ApiKeyFile(keys.path).issue("h1", "second")

    assert keys.authenticate(later.token).client == "second"
    assert sorted(r.client for r in keys.records()) == ["first", "second"]


def test_bad_hospital_or_client_names_are_refused(keys: ApiKeyFile) -> None:
    with pytest.raises(ValidationError):
        keys.issue("H 1", "x")
    with pytest.raises(ValidationError):
        keys.issue("h1", "  ")


def _app(keys: ApiKeyFile) -> FastAPI:
    app = FastAPI(dependencies=[Depends(require_api_key(keys, "h1"))])

    @app.exception_handler(MedChainError)
    async def refuse(_request: Request, exc: MedChainError) -> JSONResponse:
        status = 403 if isinstance(exc, WrongHospitalError) else 401
        return JSONResponse({"error": exc.message}, status_code=status)

    @app.get("/whoami")
    def whoami(caller: Caller = Depends(require_api_key(keys, "h1"))) -> dict[str, str]:  # noqa: B008
        return {"hospital": caller.hospital, "client": caller.client}

    return app


def test_dependency_gives_401_without_key_and_403_for_another_hospital(keys: ApiKeyFile) -> None:
    mine, theirs = keys.issue("h1", "his").token, keys.issue("h2", "his").token
    client = TestClient(_app(keys))

    assert client.get("/whoami").status_code == 401
    assert client.get("/whoami", headers={"Authorization": f"Basic {mine}"}).status_code == 401
    assert client.get("/whoami", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/whoami", headers={"Authorization": f"Bearer {theirs}"}).status_code == 403
    ok = client.get("/whoami", headers={"Authorization": f"Bearer {mine}"})
    assert (ok.status_code, ok.json()) == (200, {"hospital": "h1", "client": "his"})


def test_command_line_issues_lists_and_revokes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from medchain.common.auth import main

    assert main(["auth", "issue", "h1", "hospital-it"]) == 0
    token = capsys.readouterr().out.strip()
    keys = ApiKeyFile(keys_file(tmp_path / "medchain-home"))
    record = keys.authenticate(token)
    assert main(["auth", "revoke", record.key_id]) == 0
    assert main(["auth", "list"]) == 0
    assert f"{record.key_id}  h1  hospital-it  revoked" in capsys.readouterr().out
    assert main(["auth"]) == 2
