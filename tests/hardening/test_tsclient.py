"""A TypeScript client generated from a running server's /openapi.json: the typed journey in
tools/tsclient compiles under `tsc --strict`, then runs against that server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.keepsake_cli import Server, keepsake_runner
from tests.fixtures.media_factory import write_video

pytestmark = pytest.mark.slow

TSCLIENT = Path(__file__).resolve().parents[2] / "tools" / "tsclient"
BIN = TSCLIENT / "node_modules" / ".bin"


@pytest.fixture(autouse=True)
def _clean_database() -> None:
    """Overrides conftest's: the server here has its own embedded database."""


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with keepsake_runner() as keepsake:
        yield keepsake.serve(env={**keepsake.env, "KEEPSAKE_RATE_LIMIT_ENABLED": "false"})


def run(*argv: str | Path) -> str:
    done = subprocess.run(
        argv, cwd=TSCLIENT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_generated_client_compiles_strictly_and_walks_the_journey(
    server: Server, tmp_path: Path
) -> None:
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm, "npm is needed for the TypeScript client check"
    assert node, "Node.js is needed for the TypeScript client check"
    run(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
    # Defaults make a request field optional, as the server reads it; openapi-typescript
    # would otherwise mark every field with a default as required.
    run(
        BIN / "openapi-typescript",
        f"{server.base_url}/openapi.json",
        "--default-non-nullable",
        "false",
        "--output",
        "generated/schema.d.ts",
    )
    run(BIN / "tsc", "--strict", "-p", ".")

    video = write_video(tmp_path / "walk.mp4", audio="aac")
    outcome = run(node, "generated/out/journey.js", server.base_url, video)

    assert '"balance":' in outcome, outcome
