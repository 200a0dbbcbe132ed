"""Logins, tokens and roles; the public endpoints, errors as JSON, OpenAPI and reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from prometheus_client.parser import text_string_to_metric_families

from trunkline.config.loader import Config, load_config_text

if TYPE_CHECKING:
    from tests.integration.conftest import Centre, StartCentre


async def test_login_returns_a_token_that_identifies_the_user(centre: Centre) -> None:
    resp = await centre.client.post(
        "/api/v1/auth/login", json={"username": "ann", "password": "ann-secret"}
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["user_id"] == "ann" and body["role"] == "agent" and body["agent_id"] == "ann"
    assert len(body["token"]) >= 40 and body["expires_at"] > 0
    me = await centre.call(
        "GET", "/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert me == {
        **{k: body[k] for k in ("user_id", "name", "role", "agent_id", "expires_at")},
        "centre": {"name": "Trunkline", "timezone": "UTC"},
    }


async def test_wrong_password_and_unknown_user_get_the_same_answer(centre: Centre) -> None:
    answers = []
    for username, password in [("ann", "wrong"), ("nobody", "ann-secret"), ("ann", "")]:
        body = await centre.call(
            "POST",
            "/api/v1/auth/login",
            json={"username": username, "password": password},
            expect=401,
        )
        answers.append(body)
    assert answers[0]["error_id"] == "invalid_credentials"
    assert answers[0] == answers[1] == answers[2]


async def test_endpoints_need_a_token(centre: Centre) -> None:
    for method, path in [
        ("GET", "/api/v1/interactions"),
        ("GET", "/api/v1/agents"),
        ("GET", "/api/v1/queues"),
        ("GET", "/api/v1/me"),
        ("POST", "/api/v1/interactions/x/accept"),
    ]:
        resp = await centre.client.request(method, path)
        assert resp.status == 401, path
        assert (await resp.json())["error_id"] == "unauthenticated"
        assert resp.headers["WWW-Authenticate"] == "Bearer"
    bad = {"Authorization": "Bearer not-a-real-token"}
    await centre.call("GET", "/api/v1/me", headers=bad, expect=401)
    # A websocket token in the query string does not open REST endpoints.
    await centre.login("sue")
    query = {"token": centre.tokens["sue"]}
    await centre.call("GET", "/api/v1/agents", params=query, expect=401)


async def test_logout_revokes_the_token(centre: Centre) -> None:
    headers = await centre.login("ann")
    await centre.call("POST", "/api/v1/auth/logout", headers=headers)
    body = await centre.call("GET", "/api/v1/me", headers=headers, expect=401)
    assert body["error_id"] == "unauthenticated"


async def test_an_expired_token_is_refused(start_centre: StartCentre) -> None:
    centre = await start_centre(token_ttl_s=0)
    headers = await centre.login("sue")
    await centre.call("GET", "/api/v1/agents", headers=headers, expect=401)


async def test_roles_rank_agent_supervisor_admin(centre: Centre) -> None:
    denied = await centre.call(
        "POST",
        "/api/v1/interactions",
        "ann",
        json={"medium": "chat", "queue": "support"},
        expect=403,
    )
    assert denied["error_id"] == "forbidden"
    await centre.call("GET", "/api/v1/interactions/x/events", "ann", expect=403)
    await centre.call("GET", "/api/v1/config", "ann", expect=403)
    await centre.call("GET", "/api/v1/config", "sue", expect=403)
    config = await centre.call("GET", "/api/v1/config", "ada")
    assert [q["id"] for q in config["queues"]] == ["support", "sales", "night"]
    assert {u["id"] for u in config["users"]} == {"ann", "bob", "sue", "ada"}
    assert "password_hash" not in str(config) and "$argon2" not in str(config)
    # An admin may do whatever a supervisor may.
    await centre.call(
        "POST",
        "/api/v1/interactions",
        "ada",
        json={"medium": "email", "queue": "support"},
        expect=201,
    )


async def test_public_endpoints(centre: Centre) -> None:
    assert await centre.call("GET", "/healthz") == {"status": "ok"}
    resp = await centre.client.get("/metrics")
    assert resp.status == 200 and resp.content_type == "text/plain"
    names = {f.name for f in text_string_to_metric_families(await resp.text())}
    assert "trunkline_interactions_answered" in names


async def test_unknown_route_and_wrong_method_answer_json(centre: Centre) -> None:
    body = await centre.call("GET", "/api/v1/nothing-here", expect=404)
    assert body["error_id"] == "not_found"
    resp = await centre.client.delete("/api/v1/auth/login")
    assert resp.status == 405
    assert (await resp.json())["error_id"] == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]


async def test_openapi_document_lists_every_route(centre: Centre) -> None:
    doc = await centre.call("GET", "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "Error" in doc["components"]["schemas"]
    registered = [
        (route.resource.canonical, route.method.lower())
        for route in centre.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/v1")
    ]
    assert len(registered) >= 25
    for path, method in registered:
        assert method in doc["paths"].get(path, {}), f"{method.upper()} {path} undocumented"
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    create = doc["paths"]["/api/v1/interactions"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"medium", "queue", "skills", "priority"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    listing = doc["paths"]["/api/v1/interactions"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"state", "queue", "limit", "offset"}
    assert doc["paths"]["/api/v1/auth/login"]["post"]["security"] == []


async def test_reload_applies_a_new_file_and_keeps_the_old_on_error(
    start_centre: StartCentre, config_text: Callable[..., str]
) -> None:
    files: list[str] = []

    async def reload() -> Config:
        return load_config_text(files[-1], "centre.yaml")

    centre = await start_centre(reload_config=reload)
    files.append(config_text().replace("  night:", "  billing: {name: Billing}\n  night:"))
    body = await centre.call("POST", "/api/v1/config/reload", "ada")
    assert body["queues"] == 4
    queues = await centre.call("GET", "/api/v1/queues", "ann")
    assert "billing" in {q["id"] for q in queues["queues"]}

    files.append("queues:\n  support: {offer_timeout_s: -5}\n")
    body = await centre.call("POST", "/api/v1/config/reload", "ada", expect=422)
    assert body["error_id"] == "invalid_config"
    assert body["details"]["errors"][0]["line"] == 2
    queues = await centre.call("GET", "/api/v1/queues", "ann")
    assert "billing" in {q["id"] for q in queues["queues"]}  # the running config stays
    await centre.call("POST", "/api/v1/config/reload", "sue", expect=403)


async def test_a_user_removed_by_reload_is_logged_out(
    start_centre: StartCentre, config_text: Callable[..., str]
) -> None:
    async def reload() -> Config:
        text = config_text()
        kept = [line for line in text.splitlines() if "id: sue" not in line]
        return load_config_text("\n".join(kept), "centre.yaml")

    centre = await start_centre(reload_config=reload)
    sue = await centre.login("sue")
    await centre.call("GET", "/api/v1/agents", headers=sue)
    await centre.call("POST", "/api/v1/config/reload", "ada")
    await centre.call("GET", "/api/v1/agents", headers=sue, expect=401)


async def test_reload_without_a_file_is_unavailable(centre: Centre) -> None:
    body = await centre.call("POST", "/api/v1/config/reload", "ada", expect=501)
    assert body["error_id"] == "reload_unavailable"
