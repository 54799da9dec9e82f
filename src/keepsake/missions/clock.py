"""The time mission routes judge by: a dependency, so tests move the clock instead of sleeping."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends

from keepsake.security import utcnow


async def current_time() -> datetime:
    return utcnow()


Now = Annotated[datetime, Depends(current_time)]
