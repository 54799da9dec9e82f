"""Every mission and points route is documented: summary, tag, problem codes, examples."""

from __future__ import annotations

import httpx

ROUTES = {
    ("get", "/v1/missions"): ("missions", {"401", "422"}),
    ("get", "/v1/missions/{id}"): ("missions", {"401", "404"}),
    ("get", "/v1/missions/{id}/entries"): ("missions", {"401", "404", "422"}),
    ("post", "/v1/admin/missions"): ("missions", {"401", "403", "409", "422"}),
    ("patch", "/v1/admin/missions/{id}"): ("missions", {"403", "404", "409", "422"}),
    ("post", "/v1/admin/missions/{id}/close"): ("missions", {"403", "404", "409"}),
    ("post", "/v1/admin/missions/{id}/winners"): ("missions", {"403", "404", "409"}),
    ("get", "/v1/me/points"): ("points", {"401", "422"}),
    ("post", "/v1/admin/points/adjustments"): ("points", {"403", "404", "409", "422"}),
}


async def test_the_routes_are_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    for (method, path), (tag, codes) in ROUTES.items():
        operation = spec["paths"][path][method]
        assert operation["tags"] == [tag]
        assert operation["summary"]
        assert "\n" not in operation["summary"]
        assert codes <= set(operation["responses"]), (method, path)
    winners = spec["paths"]["/v1/admin/missions/{id}/winners"]["post"]["responses"]
    assert "winners_already_chosen" in winners["409"]["description"]
    adjust = spec["paths"]["/v1/admin/points/adjustments"]["post"]["responses"]
    assert "insufficient_points" in adjust["409"]["description"]
    schemas = spec["components"]["schemas"]
    for name in (
        "MissionCreate",
        "MissionPublic",
        "WinnersChoice",
        "AdjustmentCreate",
        "PointsPublic",
    ):
        assert schemas[name]["examples"], name
    assert schemas["MissionCreate"]["additionalProperties"] is False
