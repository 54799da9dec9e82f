"""Connects the hooks the domains declare (`keepsake.hooks`) to the flows and domains
above them. The app and the worker call it when they are built; connecting twice changes
nothing."""

from __future__ import annotations

from keepsake.accounts import deletion
from keepsake.feeds import service as feeds
from keepsake.flows import deletion as deletion_flow
from keepsake.flows import memories as memory_flows
from keepsake.memories import service as memories
from keepsake.memories import tasks as memory_tasks
from keepsake.missions import repository as missions
from keepsake.missions import service as mission_rules
from keepsake.points import repository as points
from keepsake.search import service as search


def connect() -> None:
    deletion.purge.connect(deletion_flow.purge_account)
    memory_tasks.finished.connect(memory_flows.finished)
    memories.deleting.connect(memory_flows.deleting)
    memories.feed_cards.connect(feeds)
    points.mission_title.connect(missions.title_of)
    search.open_mission_tags.connect(mission_rules.open_tags)
