"""JSON responses written from plain values, for the hot reads that skip their model."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response


def json_response(content: Any) -> Response:
    """`content` as JSON the way pydantic writes it: UTC times end in `Z`.

    Routes answering this way keep their model as `response_model`, for the API docs; a
    test checks each such answer is exactly what the model makes of it.
    """
    body = orjson.dumps(content, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")
