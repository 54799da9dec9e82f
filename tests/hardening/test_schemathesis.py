"""Schemathesis against a real `keepsake serve`: every operation as its OpenAPI document says."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.fixtures.keepsake_cli import WORKER_URL, Keepsake, Server, keepsake_runner

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "ignored_auth",
    "use_after_free",
)
# Operations that end the caller's own session: each runs last, with an account of its own,
# so that the others keep a live token. (A password reset ends every session once it succeeds.)
SESSION_ENDING = (
    "logout_v1_auth_logout_post",
    "revoke_session_v1_me_sessions__id__delete",
    "reset_password_v1_auth_password_reset_post",
    "delete_me_v1_me_delete",
)
# Bounds the run to a few minutes on two cores; the fixed seed keeps CI reproducible.
MAX_EXAMPLES = "10"
SEED = "20261205"
RUN_TIMEOUT = 900


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Keepsake, Server]]:
    with keepsake_runner() as keepsake:
        # Rate limits would answer most generated requests with 429 (documented, but then
        # nothing behind it is exercised).
        env = {**keepsake.env, "KEEPSAKE_RATE_LIMIT_ENABLED": "false"}
        yield keepsake, keepsake.serve(env=env)


def sign_up(base_url: str, handle: str) -> str:
    body = {
        "email": f"{handle}@example.com",
        "password": PASSWORD,
        "handle": handle,
        "display_name": handle.title(),
    }
    answer = httpx.post(f"{base_url}/v1/auth/signup", json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["tokens"]["access_token"]
    return token


def schemathesis(base_url: str, token: str, *selection: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            ",".join(CHECKS),
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
            # One worker: Hypothesis' lambda descriptions parse source in threads, which
            # CPython 3.11's parser does not survive (SystemError: AST recursion depth).
            "--workers",
            "1",
            "--no-shrink",
            *selection,
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def assert_clean(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert " passed" in run.stdout, run.stdout[-5000:]


def test_every_operation_keeps_its_documented_contract(
    server: tuple[Keepsake, Server],
) -> None:
    keepsake, running = server
    user = sign_up(running.base_url, "fuzzy")
    moderator = sign_up(running.base_url, "moddy")
    match = WORKER_URL.search(running.output())
    assert match, running.output()
    granted = keepsake.run(
        "admin",
        "set-role",
        "moddy",
        "moderator",
        env={**keepsake.env, "KEEPSAKE_DATABASE_URL": match.group(1)},
    )
    assert granted.returncode == 0, granted.stderr
    excluded = [option for name in SESSION_ENDING for option in ("--exclude-operation-id", name)]

    assert_clean(
        schemathesis(running.base_url, user, "--exclude-path-regex", "^/v1/admin/", *excluded)
    )
    assert_clean(schemathesis(running.base_url, moderator, "--include-path-regex", "^/v1/admin/"))
    for number, operation_id in enumerate(SESSION_ENDING):
        own = sign_up(running.base_url, f"ending{number}")
        assert_clean(schemathesis(running.base_url, own, "--include-operation-id", operation_id))
