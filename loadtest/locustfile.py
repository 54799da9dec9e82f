"""People using the Keepsake app, for Locust: each signs in as a seeded account and browses.

Seed the target first (`keepsake admin seed --users N --memories M`) and tell Locust how
many accounts there are (`--seed-users N`). Simulated user k signs in as
`seed_user_<k>` (wrapping around past N; in distributed mode worker w of W takes
w, w+W, w+2W, …, so workers never share an account while there are enough).

Each simulated user runs `--task-rate` tasks per second (Locust's `constant_throughput`),
so users × task-rate is a fixed arrival rate of app actions, whatever the latency; a
task is a few requests. Weights follow what people do in the app: open it (home feed
and notifications) most, scroll, open memories, clap, look at profiles, explore and
hashtags less, follow rarely, post a memory occasionally.

This file needs Locust only (no Keepsake import), so that the cluster's Locust image
runs it as it is.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import quote, urlencode

from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner
from locust.user.wait_time import constant_throughput

# As `keepsake.seed` makes them; repeated here because this file imports no Keepsake code.
SEED_EMAIL = "seed_user_{n:05d}@seed.example.com"
SEED_PASSWORD = "a calm seeded afternoon"  # noqa: S105 - the published seed password
# The seeder's most common tags, for users who have not seen any yet.
COMMON_TAGS = ("walk", "sunset", "coffee", "home", "rain")
MAX_CLAPS = 50

log = logging.getLogger("keepsake.loadtest")
# What people pick next; the load's shape, nothing secret.
_random = random.Random()  # noqa: S311
_accounts = itertools.count()


class Shared:
    """What this process's simulated users share."""

    # Requests sent: a worker logs the count when the test stops, which is how one can
    # tell, in a cluster's logs or in a test, that every worker took part.
    sent = 0
    # A seeded memory's tiny MP4, fetched once through its signed URL and then posted
    # again by every user that posts: real, small, and no media library needed here.
    clip_url: str | None = None
    clip: bytes | None = None


# Locust's EventHook.add_listener is unannotated, hence the ignores.
@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _options(parser: Any) -> None:
    parser.add_argument(
        "--seed-users",
        type=int,
        default=1000,
        env_var="LOCUST_SEED_USERS",
        help="how many seeded accounts the target has (keepsake admin seed --users)",
    )
    parser.add_argument("--seed-password", default=SEED_PASSWORD, env_var="LOCUST_SEED_PASSWORD")
    parser.add_argument(
        "--task-rate",
        type=float,
        default=0.5,
        env_var="LOCUST_TASK_RATE",
        help="app actions per second per simulated user (fixed arrival rate)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=60.0,
        env_var="LOCUST_READY_TIMEOUT",
        help="seconds a posted memory may take to become ready before it counts as failed",
    )


@events.request.add_listener  # type: ignore[untyped-decorator]
def _count_request(**_: Any) -> None:
    Shared.sent += 1


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _log_sent(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        log.info("worker %d sent %d requests", environment.runner.worker_index, Shared.sent)


def _account(environment: Environment) -> int:
    options = environment.parsed_options
    assert options is not None
    runner = environment.runner
    workers = max(1, options.expect_workers) if isinstance(runner, WorkerRunner) else 1
    index = getattr(runner, "worker_index", 0)
    return int((next(_accounts) * workers + index) % options.seed_users)


class AppUser(FastHttpUser):
    """One person with the app, signed in on one device."""

    def wait_time(self) -> float:
        options = self.environment.parsed_options
        assert options is not None
        return constant_throughput(options.task_rate)(self)

    def on_start(self) -> None:
        n = _account(self.environment)
        self.handle = f"seed_user_{n:05d}"
        options = self.environment.parsed_options
        assert options is not None
        body = {"email": SEED_EMAIL.format(n=n), "password": options.seed_password}
        tokens = self.call("POST", "/v1/auth/login", "/v1/auth/login", json=body, signed_in=False)
        if tokens is None:
            # Nothing else works signed out; the failed log-in is in the report.
            raise StopUser
        self._keep(tokens["tokens"])
        # What this person has seen lately: what they open, clap, follow next.
        self.memories: deque[dict[str, Any]] = deque(maxlen=60)
        self.handles: deque[str] = deque(maxlen=60)
        self.tags: deque[str] = deque(maxlen=20)
        self.followed: deque[str] = deque(maxlen=20)

    def _keep(self, tokens: dict[str, Any]) -> None:
        self.auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        self.refresh_token: str = tokens["refresh_token"]
        # Refresh well before expiry, as the app does, so long runs never see a 401.
        self.refresh_at = time.monotonic() + 0.8 * tokens["expires_in"]

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        expected: tuple[int, ...] = (),
        signed_in: bool = True,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> Any:
        """The JSON body of a 2xx answer, else None. `expected` refusals (a race with
        another device of the same account) count as successes, not failures."""
        if signed_in and time.monotonic() > self.refresh_at:
            body = {"refresh_token": self.refresh_token}
            self.refresh_at = float("inf")
            refreshed = self.call("POST", "/v1/auth/refresh", "/v1/auth/refresh", json=body)
            if refreshed is not None:
                self._keep(refreshed["tokens"])
        sent = {**(self.auth if signed_in else {}), **(headers or {})}
        with self.client.request(
            method, path, name=name, headers=sent, json=json, catch_response=True
        ) as response:
            if response.status_code in expected:
                response.success()
            elif 200 <= response.status_code < 300 and response.content:
                return response.json()
        return None

    def _remember(self, memories: list[dict[str, Any]]) -> None:
        for memory in memories:
            author = memory["author"]["handle"]
            self.memories.append(
                {"id": memory["id"], "author": author, "my_claps": memory.get("my_claps", 0)}
            )
            if author != self.handle:
                self.handles.append(author)
            self.tags.extend(memory.get("hashtags", ()))
            clips = memory.get("clips") or [{}]
            Shared.clip_url = Shared.clip_url or clips[0].get("video_url")

    def _pages(self, path: str, name: str, pages: int) -> None:
        """Read a list as the app scrolls it: the first page, then `next_cursor`s."""
        cursor = None
        for _ in range(pages):
            query = urlencode({"limit": 20, **({"cursor": cursor} if cursor else {})})
            page = self.call("GET", f"{path}?{query}", name)
            if page is None:
                return
            self._remember(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def _other_memory(self) -> dict[str, Any] | None:
        others = [m for m in self.memories if m["author"] != self.handle]
        return _random.choice(others) if others else None

    @task(10)
    def open_app(self) -> None:
        self._pages("/v1/feed/home", "/v1/feed/home", 1)
        self.call("GET", "/v1/notifications?limit=20", "/v1/notifications")

    @task(8)
    def scroll_home(self) -> None:
        self._pages("/v1/feed/home", "/v1/feed/home", _random.randint(1, 3))

    @task(12)
    def open_memory(self) -> None:
        if self.memories:
            memory = _random.choice(self.memories)
            self.call("GET", f"/v1/memories/{memory['id']}", "/v1/memories/[id]")

    @task(6)
    def clap(self) -> None:
        memory = self._other_memory()
        if memory is None or memory["my_claps"] >= MAX_CLAPS:
            return
        result = self.call(
            "POST",
            f"/v1/memories/{memory['id']}/claps",
            "/v1/memories/[id]/claps",
            json={"count": _random.randint(1, 5)},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            expected=(409,),  # another device of this account reached the cap first
        )
        memory["my_claps"] = result["my_claps"] if result else MAX_CLAPS

    @task(5)
    def view_profile(self) -> None:
        if self.handles:
            handle = _random.choice(self.handles)
            self.call("GET", f"/v1/users/{handle}", "/v1/users/[handle]")
            self._pages(f"/v1/users/{handle}/memories", "/v1/users/[handle]/memories", 1)

    @task(4)
    def explore(self) -> None:
        self._pages("/v1/feed/explore", "/v1/feed/explore", _random.randint(1, 2))

    @task(2)
    def hashtag(self) -> None:
        tag = _random.choice(self.tags or COMMON_TAGS)
        path = f"/v1/hashtags/{quote(tag)}/memories"
        self._pages(path, "/v1/hashtags/[tag]/memories", _random.randint(1, 2))

    @task(2)
    def follow(self) -> None:
        if self.handles:
            handle = _random.choice(self.handles)
            self.call("POST", f"/v1/users/{handle}/follow", "/v1/users/[handle]/follow")
            self.followed.append(handle)

    @task(1)
    def unfollow(self) -> None:
        # Keeps the follow graph near its seeded shape over a long run.
        if self.followed:
            handle = self.followed.popleft()
            self.call("DELETE", f"/v1/users/{handle}/follow", "/v1/users/[handle]/follow")
            # Their followers-only memories are out of sight now, as in the app.
            kept = [m for m in self.memories if m["author"] != handle]
            self.memories = deque(kept, maxlen=self.memories.maxlen)

    @task(1)
    def post_memory(self) -> None:
        clip = self._clip_bytes()
        if clip is None:
            return
        declared = {"purpose": "clip", "content_type": "video/mp4", "size_bytes": len(clip)}
        upload = self.call("POST", "/v1/uploads", "/v1/uploads", json=declared)
        if upload is None:
            return
        # The signed URL carries its own authorisation; with local storage it is this
        # server, with S3 the bucket.
        with self.client.request(
            upload["method"],
            upload["upload_url"],
            name="upload_url",
            data=clip,  # type: ignore[arg-type] # geventhttpclient sends bytes as they are
            headers=upload["headers"],
            catch_response=True,
        ):
            pass
        memory = self.call(
            "POST",
            "/v1/memories",
            "/v1/memories",
            json={
                "clips": [{"upload_id": upload["id"]}],
                "caption": f"a quiet moment #{_random.choice(COMMON_TAGS)}",
                "visibility": _random.choice(("followers", "public")),
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if memory is not None:
            self._wait_ready(memory["id"])

    def _clip_bytes(self) -> bytes | None:
        if Shared.clip is None and Shared.clip_url is not None:
            with self.client.request(
                "GET", Shared.clip_url, name="media_url", catch_response=True
            ) as response:
                if response.status_code == 200 and response.content:
                    Shared.clip = response.content
        return Shared.clip

    def _wait_ready(self, memory_id: str) -> None:
        """Poll as the app does; the time to `ready` is reported as its own entry."""
        options = self.environment.parsed_options
        assert options is not None
        started = time.monotonic()
        status = "processing"
        while status == "processing" and time.monotonic() - started < options.ready_timeout:
            time.sleep(1.0)  # gevent-patched: only this simulated user waits
            memory = self.call("GET", f"/v1/memories/{memory_id}", "/v1/memories/[id] (poll)")
            status = memory["status"] if memory else status
        self.environment.events.request.fire(
            request_type="FLOW",
            name="upload → ready",
            response_time=(time.monotonic() - started) * 1000,
            response_length=0,
            exception=None if status == "ready" else RuntimeError(f"memory still {status}"),
            context={},
        )
