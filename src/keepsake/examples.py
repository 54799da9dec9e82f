"""OpenAPI examples built from smaller ones, so a nested example never drifts from its parts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def example_of(model: type[BaseModel]) -> Any:
    """The first example `model` declares in its `json_schema_extra`."""
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if not isinstance(examples, list) or not examples:
        raise TypeError(f"{model.__name__} declares no examples")
    return examples[0]
