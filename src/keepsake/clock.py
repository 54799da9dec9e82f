"""The time routes judge missions by: a dependency, so tests move the clock instead of sleeping.

Beneath the domains: missions judge by it, and search puts an open mission's tag first by it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends

from keepsake.security import utcnow


async def current_time() -> datetime:
    return utcnow()


Now = Annotated[datetime, Depends(current_time)]
