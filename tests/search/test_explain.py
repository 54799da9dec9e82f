"""The plans of people search on a seeded database: indexes, never a scan of `users`.

The plan checked is the generic one the read pool runs: a page is a prepared statement,
planned once for any query of its shape (`keepsake.search.repository`).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from keepsake.search import repository
from keepsake.search.query import parse
from tests.fixtures.plans import explained, scans

PEOPLE = 20_000
# Syllables common in Korean names, so one- and two-syllable queries match many people.
SYLLABLES = "김이박최정강조윤장임민지서현준우예진수하은도연유나영성호"


QUERIES = ["민", "민지", "김민지서준", "ㅁㅈ", "seed_01"]


async def test_people_search_reads_indexes(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (id, email, handle, display_name)"
                " SELECT gen_random_uuid(), 'seed' || n || '@example.com',"
                " 'seed_' || lpad(n::text, 5, '0'),"
                " substr(:s, 1 + n % 31, 1) || substr(:s, 1 + (n / 31) % 31, 1)"
                "   || substr(:s, 1 + (n / 961) % 31, 1)"
                " FROM generate_series(1, :n) AS n"
            ),
            {"s": SYLLABLES, "n": PEOPLE},
        )
        await conn.execute(text("ANALYZE users, user_search_grams, follows, blocks"))
        # The plan the read pool runs: prepared once, planned once for any query (a
        # plan for one query's values is never run there).
        await conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        for q in QUERIES:
            query = parse(q)
            assert query is not None
            params = repository.parameters(query, viewer_id=uuid.uuid4(), after=None, limit=21)
            plan = await explained(conn, repository.page_query(query, None), params)
            nodes = list(scans(plan))
            scanned = {n.get("Relation Name") for n in nodes if n["Node Type"] == "Seq Scan"}
            assert "users" not in scanned, (q, plan)
            indexes = {n.get("Index Name") for n in nodes}
            assert indexes & {"user_search_grams_pkey", "ix_users_handle_key"}, (q, plan)
