"""The S3 code path end to end: presigned upload to a local S3 server, then a ready memory."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keepsake.main import create_app
from keepsake.worker import in_process_worker, job_resources
from tests.conftest import PASSWORD, Member, running
from tests.fixtures.media_factory import write_video
from tests.fixtures.memory_helpers import create_memory, upload, wait_processed
from tests.fixtures.polling import eventually
from tests.fixtures.s3_server import ACCESS_KEY, REGION, SECRET_KEY, S3Server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server().running() as server:
        yield server


async def test_upload_to_ready_on_s3(
    s3: S3Server,
    make_settings: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    settings = make_settings(
        storage_backend="s3", s3_bucket=bucket, s3_region=REGION, s3_endpoint_url=s3.endpoint_url
    )
    app = create_app(settings)
    async with running(app) as client, httpx.AsyncClient() as http:
        signup = await client.post(
            "/v1/auth/signup",
            json={
                "email": "mina@example.com",
                "password": PASSWORD,
                "handle": "mina",
                "display_name": "Mina",
            },
        )
        tokens = signup.json()["tokens"]
        mina = Member(
            signup.json()["user"]["id"],
            "mina",
            "mina@example.com",
            tokens["access_token"],
            tokens["refresh_token"],
        )
        clips = [
            write_video(tmp_path / "portrait.mp4", size=(96, 160), audio="aac"),
            write_video(
                tmp_path / "iphone.mov",
                size=(160, 96),
                codec="libx265",
                rotation=90,
                container_format="mov",
            ),
        ]
        ids = [
            await upload(client, mina, clips[0], "video/mp4", http=http),
            await upload(client, mina, clips[1], "video/quicktime", http=http),
        ]
        made = await create_memory(client, mina, ids)

        def uploaded() -> set[str]:
            found = s3.client().list_objects_v2(Bucket=bucket, Prefix="uploads/")
            return {o["Key"] for o in found.get("Contents", [])}

        # Claiming copied the bytes where no presigned PUT reaches; a job deletes the raw.
        raw = {f"uploads/{mina.id}/{i}" for i in ids}
        assert {f"{key}.claimed" for key in raw} <= uploaded()
        state = app.state
        async with in_process_worker(
            job_resources(state.settings, state.sessionmaker, state.storage)
        ):
            memory = await wait_processed(client, mina, made["id"])
            await eventually(lambda: not raw & uploaded(), what="the raw uploads deleted")
        assert memory["status"] == "ready", memory
        assert memory["clips"][1]["height"] > memory["clips"][1]["width"]
        video = await http.get(memory["clips"][0]["video_url"])
        assert video.status_code == 200
        assert video.content[4:8] == b"ftyp"
        keys = {o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket)["Contents"]}
        assert {k.split("/")[0] for k in keys} <= {"memories", "uploads"}
        assert sum(k.startswith("memories/") for k in keys) == 4
