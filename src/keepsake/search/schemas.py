"""Response bodies of search."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HashtagPublic(BaseModel):
    """A tag people used; never with a count. Missions will add the open mission's `mission`."""

    tag: str = Field(description="Without `#`, as stored: NFKC, case-folded.", examples=["첫눈"])


class HashtagList(BaseModel):
    items: list[HashtagPublic]
