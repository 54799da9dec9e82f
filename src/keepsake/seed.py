"""`keepsake admin seed`: a realistic data set for load tests and benchmarks, written fast.

Every row is derived from its number (`seed_user_00042`, memory 17, clap 9), ids come
from `uuid5`, and every INSERT is `ON CONFLICT DO NOTHING`: a re-run with the same
numbers adds nothing, a larger run adds only what is new. A memory's clips and hashtags
go in with it, in one transaction per batch, and only for the memories that batch really
inserted, so an interrupted run never leaves a memory without its clips.

Popularity follows a power law, as on any social network: a few accounts are followed
by many, a few post a lot, a few memories gather most claps. Every account has the same
password, hashed once: argon2 costs tens of milliseconds per hash by design.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.graph.models import FollowState
from keepsake.kinds import MemoryStatus, Visibility
from keepsake.memories.hashtags import parse_hashtags
from keepsake.models import metadata
from keepsake.security import hash_password
from keepsake.seed_content import (
    CLIP_SECONDS,
    CLIP_SIZE,
    MEDIA_VARIANTS,
    NAMES,
    PHRASES,
    caption,
    media_keys,
    power_law,
    rng,
    store_media,
)
from keepsake.seed_content import EMAIL_DOMAIN as EMAIL_DOMAIN
from keepsake.seed_content import email as email
from keepsake.seed_content import handle as handle
from keepsake.seed_content import seed_id as seed_id
from keepsake.seed_sql import batches, clap_columns, claps_table, insert_rows
from keepsake.storage.base import Storage

SEED_PASSWORD = "a calm seeded afternoon"  # noqa: S105 - published: seeded test data only
BATCH = 2_000
# Fixed forever: the same numbers must give the same ids on every run.
_HISTORY = timedelta(days=90)
_VISIBILITIES = tuple(Visibility)
# Mostly shared with followers or everyone; a few for close friends or only oneself.
_VISIBILITY_WEIGHTS = tuple({"public": 45, "followers": 45}.get(v, 5) for v in Visibility)
_CLAPPABLE = (Visibility.public, Visibility.followers)
_TABLES = metadata.tables


@dataclass(frozen=True)
class SeedPlan:
    users: int
    memories: int
    follows_per_user: int = 20
    # The long tail's cap, which the first account reaches; None: 20 × `follows_per_user`,
    # and nobody in particular reaches it.
    max_follows: int | None = None
    # Clap rows (one person's claps for one memory); None means three per memory.
    claps: int | None = None


@dataclass
class SeedResult:
    inserted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Seeder:
    def __init__(
        self, engine: AsyncEngine, plan: SeedPlan, progress: Callable[[str], None]
    ) -> None:
        self.engine, self.plan, self.progress = engine, plan, progress
        self.now = datetime.now(UTC)
        self.result = SeedResult()
        # Kept between phases: clappers are mostly the author's followers.
        self.followers: list[list[int]] = [[] for _ in range(plan.users)]
        self.memory_meta: list[tuple[int, Visibility]] = []
        # uuid5 costs a SHA-1; every phase refers to users by id many times over.
        self.user_ids = [seed_id("user", n) for n in range(plan.users)]

    def _count(self, table: str, rows: int) -> None:
        self.result.inserted[table] = self.result.inserted.get(table, 0) + rows

    async def _write(self, table: Table, rows: list[dict[str, Any]], done: str) -> None:
        async with self.engine.begin() as conn:
            self._count(table.name, len(await insert_rows(conn, table, rows)))
        self.progress(f"seeding {table.name} {done}…")

    async def users(self, password_hash: str) -> None:
        for chunk in batches(range(self.plan.users), BATCH):
            rows = []
            for n in chunk:
                r = rng(f"user:{n}")
                joined = self.now - timedelta(days=r.uniform(_HISTORY.days, 400))
                rows.append(
                    {
                        "id": self.user_ids[n],
                        "email": email(n),
                        "email_verified_at": joined,
                        "password_hash": password_hash,
                        "handle": handle(n),
                        "display_name": f"{r.choice(NAMES)} {r.choice(NAMES)[0]}.",
                        "bio": r.choice(PHRASES) if r.random() < 0.4 else "",
                        "note": r.choice(PHRASES) if r.random() < 0.2 else "",
                        "is_private": r.random() < 0.05,
                        "created_at": joined,
                    }
                )
            await self._write(_TABLES["users"], rows, f"{chunk[-1] + 1}/{self.plan.users}")

    def _followees(self, follower: int, order: list[int], weights: list[float]) -> list[int]:
        """Distinct accounts `follower` follows, popular ones far more likely."""
        r = rng(f"follows:{follower}")
        # Out-degrees have a long tail too: Pareto(1.5) has mean 3, so this averages K.
        per_user = self.plan.follows_per_user
        cap = self.plan.max_follows or 20 * per_user
        want = min(int(r.paretovariate(1.5) * per_user / 3), cap, self.plan.users // 2)
        if follower == 0 and self.plan.max_follows:
            # The tail's end made certain: benchmarks read as someone who follows that many.
            want = min(cap, self.plan.users // 2)
        picked: dict[int, None] = {}
        while len(picked) < want:
            missing = want - len(picked)
            draws = r.choices(range(len(order)), cum_weights=weights, k=missing)
            picked.update(dict.fromkeys(order[i] for i in draws if order[i] != follower))
            if want - len(picked) > 0.9 * missing:
                # Saturated: the popular accounts are drawn already, and someone who
                # follows thousands would redraw them thousands of times. The rest at random.
                shuffled = (n for n in r.sample(order, len(order)) if n != follower)
                picked.update(dict.fromkeys(itertools.islice(shuffled, 2 * want)))
                return list(picked)[:want]
        return list(picked)

    async def follows(self) -> None:
        total = self.plan.users
        order, weights = power_law(total, rng(f"followed:{total}"), 1.0)
        for chunk in batches(range(total), BATCH // 4):
            rows = []
            for follower in chunk:
                r = rng(f"followed-at:{follower}")
                for followee in self._followees(follower, order, weights):
                    self.followers[followee].append(follower)
                    rows.append(
                        {
                            "id": seed_id("follow", f"{follower}:{followee}"),
                            "follower_id": self.user_ids[follower],
                            "followee_id": self.user_ids[followee],
                            "state": FollowState.active,
                            "created_at": self.now - _HISTORY * r.random(),
                        }
                    )
            await self._write(_TABLES["follows"], rows, f"of {chunk[-1] + 1}/{total} users")

    def _memory(self, n: int, author: int, r: random.Random) -> dict[str, list[dict[str, Any]]]:
        """Memory `n` by `author`: its row, its clips' rows and its hashtags' rows."""
        memory_id = seed_id("memory", n)
        clips = []
        for position in range(r.choices((1, 2, 3), (6, 3, 1))[0]):
            video_key, poster_key = media_keys(r.randrange(MEDIA_VARIANTS))
            clip_id = seed_id("clip", f"{n}:{position}")
            clips.append(
                {
                    "id": clip_id,
                    "memory_id": memory_id,
                    "position": position,
                    "upload_id": seed_id("upload", f"{n}:{position}"),
                    # Dangling, as for a real ready memory: its originals are deleted.
                    "source_key": f"uploads/seed/{clip_id}",
                    "source_content_type": "video/mp4",
                    "duration_s": CLIP_SECONDS,
                    "width": CLIP_SIZE[0],
                    "height": CLIP_SIZE[1],
                    "video_key": video_key,
                    "poster_key": poster_key,
                }
            )
        visibility = r.choices(_VISIBILITIES, _VISIBILITY_WEIGHTS)[0]
        self.memory_meta.append((author, visibility))
        created = self.now - _HISTORY * r.random() ** 2  # more of them recent
        text = caption(r)
        memory = {
            "id": memory_id,
            "author_id": self.user_ids[author],
            "status": MemoryStatus.ready,
            "caption": text,
            "visibility": visibility,
            "duration_s": CLIP_SECONDS * len(clips),
            "created_at": created,
            "updated_at": created,
        }
        tags = [
            {"memory_id": memory_id, "tag": tag, "created_at": created}
            for tag in parse_hashtags(text)
        ]
        return {"memories": [memory], "clips": clips, "memory_hashtags": tags}

    async def memories(self) -> None:
        total = self.plan.memories
        # Flatter than follows: the busiest accounts post daily, not thousands of times.
        order, weights = power_law(self.plan.users, rng(f"posting:{self.plan.users}"), 0.7)
        ranks = range(self.plan.users)
        for chunk in batches(range(total), BATCH):
            built = {}
            for n in chunk:
                r = rng(f"memory:{n}")
                author = order[r.choices(ranks, cum_weights=weights)[0]]
                built[seed_id("memory", n)] = self._memory(n, author, r)
            async with self.engine.begin() as conn:
                rows = [parts["memories"][0] for parts in built.values()]
                new = await insert_rows(conn, _TABLES["memories"], rows)
                self._count("memories", len(new))
                for child in ("clips", "memory_hashtags"):
                    rows = [row for memory_id in new for row in built[memory_id][child]]
                    self._count(child, len(await insert_rows(conn, _TABLES[child], rows)))
            self.progress(f"seeding memories {chunk[-1] + 1}/{total}…")

    def _draw_claps(self, total: int) -> Iterator[dict[str, Any]]:
        """`total` distinct (memory, clapper) pairs, with a count and a time each."""
        # Only memories others may clap for; a few popular ones gather most claps.
        open_ = [m for m, (_, v) in enumerate(self.memory_meta) if v in _CLAPPABLE]
        if not open_:
            return
        # Flatter than follows: a steep law would keep drawing pairs already drawn.
        order, weights = power_law(len(open_), rng(f"clapped:{len(open_)}"), 0.8)
        ranks = range(len(open_))
        seen: set[tuple[int, int]] = set()
        # Bounded: a small data set may hold fewer possible pairs than asked for.
        for n in range(20 * total):
            if len(seen) == total:
                return
            r = rng(f"clap:{n}")
            memory = open_[order[r.choices(ranks, cum_weights=weights)[0]]]
            author, visibility = self.memory_meta[memory]
            fans = self.followers[author]
            if fans and (visibility == Visibility.followers or r.random() < 0.8):
                clapper = r.choice(fans)
            elif visibility == Visibility.public:
                clapper = r.randrange(self.plan.users)
            else:
                continue
            if clapper == author or (memory, clapper) in seen:
                continue
            seen.add((memory, clapper))
            yield {
                "memory": seed_id("memory", memory),
                "clapper": self.user_ids[clapper],
                "author": self.user_ids[author],
                # Mostly one or a few claps, now and then a burst up to the cap.
                "count": min(50, int(r.paretovariate(1.3))),
                "time": self.now - _HISTORY * r.random() ** 2,
            }

    async def claps(self, table: Table) -> None:
        columns = clap_columns(table)
        total = self.plan.claps if self.plan.claps is not None else 3 * self.plan.memories
        done = 0
        for chunk in batches(self._draw_claps(total), BATCH):
            done += len(chunk)
            rows = [{column: clap[role] for column, role in columns.items()} for clap in chunk]
            await self._write(table, rows, f"{done}/{total}")


async def seed(
    engine: AsyncEngine, storage: Storage, plan: SeedPlan, progress: Callable[[str], None]
) -> SeedResult:
    started = time.monotonic()
    seeder = Seeder(engine, plan, progress)
    await store_media(storage)
    await seeder.users(await hash_password(SEED_PASSWORD))
    await seeder.follows()
    await seeder.memories()
    table = await claps_table(engine)
    if table is None:
        progress("no claps table in this database yet: seeding no claps")
    else:
        await seeder.claps(table)
    # Fresh statistics: until autovacuum gets to them, the planner would take these
    # tables for the nearly empty ones it last saw, and the load test measure bad plans.
    async with engine.begin() as conn:
        # The home timeline too: triggers fill it as follows and memories go in.
        tables = [*seeder.result.inserted, "home_timeline"]
        await conn.execute(text(f"ANALYZE {', '.join(tables)}"))
    seeder.result.seconds = time.monotonic() - started
    return seeder.result
