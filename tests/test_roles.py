"""API keys and roles on the real app (embedded index; roles need no engine): each role can do what
it may and gets 403 for the rest; 401 without a key, with a bad or a revoked one; keys are stored
hashed; writes record the key's name; the CLI makes keys locally."""

from __future__ import annotations

import hashlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from api.app import create_app
from api.auth import ADMITS
from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document
from kunlun_nlp.keys import FIRST_KEY_HINT, ROLES, KeyExistsError, KeyStore, KeyStoreError
from tests.keys import authorize, create_key, key_headers
from tests.test_cli import ROOT, cli_env, run_cli

OPEN_PATHS = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/", "/ui/sign-in", "/ui/sign-out"}
OPEN_MOUNTS = {"/docs-assets", "/ui/static"}  # static files only: the docs' scripts and styles, the page's


@pytest.fixture
def service(embedded_service):
    return embedded_service


@pytest.fixture
def app(service):
    return create_app(service)


def client_for(app, headers: dict[str, str] | None = None) -> TestClient:
    return TestClient(app, base_url="http://localhost", headers=headers or {})


# -- every role against every route --------------------------------------------------------------


def test_each_role_may_do_what_it_may_and_gets_403_for_the_rest(app, service):
    settings = service.settings
    service.ingest([Document.create(f"Police seized fake insulin pens in Lagos ({role}).", id=f"doc-{role}") for role in ROLES])
    job = service.submit([Document.create("Customs seized 300 fake handbags.", id="queued-1")])
    for role in ROLES:
        create_key(settings, "reader", f"to-revoke-by-{role}")

    def routes(role: str) -> list[tuple[str, str, str, dict, int]]:
        """(route role, method, path, request arguments, the answer when allowed)."""
        doc = f"doc-{role}"
        return [
            ("reader", "GET", "/search", {"params": {"q": "insulin"}}, 200),
            ("reader", "GET", "/export", {"params": {"format": "csv", "q": "insulin"}}, 200),
            ("reader", "GET", "/search/semantic", {"params": {"q": "counterfeit medicine"}}, 200),
            ("reader", "GET", f"/documents/{doc}", {}, 200),
            ("reader", "GET", f"/documents/{doc}/similar", {}, 200),
            ("reader", "GET", "/triage", {}, 200),
            ("reader", "GET", f"/jobs/{job}", {}, 200),
            ("reader", "GET", "/jobs", {"params": {"limit": 5}}, 200),
            ("intake", "POST", "/documents", {"json": {"text": f"Seized gutter oil ({role})."}}, 202),
            ("intake", "POST", "/documents/bulk", {"json": {"documents": [{"text": f"Seized fake honey ({role})."}]}}, 202),
            ("intake", "POST", "/documents/files", {"files": {"files": ("r.txt", f"Seized pangolin scales ({role}).".encode())}}, 202),
            ("intake", "POST", "/tag", {"json": {"text": "Police seized 3 t of gutter oil in Zhengzhou."}}, 200),
            ("trainer", "POST", f"/documents/{doc}/review", {}, 200),
            ("admin", "POST", "/keys", {"json": {"name": f"made-by-{role}", "role": "reader"}}, 201),
            ("admin", "GET", "/keys", {}, 200),
            ("admin", "DELETE", f"/keys/to-revoke-by-{role}", {}, 200),
        ]

    for role in ROLES:
        client = client_for(app, key_headers(settings, role, f"the-{role}"))
        for route_role, method, path, arguments, allowed in routes(role):
            response = client.request(method, path, **arguments)
            if role in ADMITS[route_role]:
                assert response.status_code == allowed, (role, method, path, response.text)
            else:
                assert response.status_code == 403, (role, method, path, response.text)
                assert f"needs an API key with the role {' or '.join(ADMITS[route_role])}" in response.json()["detail"]
                assert f"the key 'the-{role}' has the role {role}" in response.json()["detail"]
    assert sorted(r.name for r in service.keys.list() if r.name.startswith("made-by-")) == ["made-by-admin"]
    assert {r.name for r in service.keys.list() if r.revoked} == {"to-revoke-by-admin"}


def test_every_route_but_health_and_the_docs_needs_a_key(app):
    """A route added later without a role would be open to anyone: this names it. Every route the
    app answers is walked (the API's routers, the page's, what create_app adds itself)."""
    checked, open_seen = 0, set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            assert route.path in OPEN_MOUNTS, f"{route.path} is mounted with no key checked: static files only, named in OPEN_MOUNTS"
            open_seen.add(route.path)
            continue
        if route.path in OPEN_PATHS:
            open_seen.add(route.path)
            continue
        assert isinstance(route.original_route, APIRoute), f"{route.path} is a bare route: it cannot declare a role"
        required = [d.call.__name__ for d in _dependencies(route.dependant) if getattr(d.call, "__name__", "").startswith("require_")]
        assert required, f"{sorted(route.methods)} {route.path} declares no role (api.auth.require)"
        checked += 1
    assert checked >= 14  # the routes of this start, at least
    assert open_seen == OPEN_PATHS | OPEN_MOUNTS  # no stale name keeps a path open for a route added later
    spec = client_for(app).get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert path in OPEN_PATHS or operation.get("security"), f"{method.upper()} {path} documents no key"
    assert client_for(app).get("/health").status_code == 200


def test_the_docs_are_open_and_load_nothing_from_elsewhere(app):
    """/docs and /redoc answer without a key, from the assets fastapi-offline installed (no CDN)."""
    client = client_for(app)
    for page, scripts in (("/docs", ["/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"]),
                          ("/redoc", ["/docs-assets/redoc.standalone.js"])):
        html = client.get(page)
        assert html.status_code == 200 and "text/html" in html.headers["content-type"], page
        urls = re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)""", html.text)
        assert set(scripts) <= set(urls) and all(url.startswith("/") for url in urls), (page, urls)
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert "oauth2RedirectUrl" in client.get("/docs").text
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert client.get("/docs-assets/nothing.js").status_code == 404


def _dependencies(dependant):
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


# -- 401s ----------------------------------------------------------------------------------------


def test_a_fresh_install_says_how_to_create_the_first_admin_key(app, service):
    client = client_for(app)
    response = client.get("/search")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert FIRST_KEY_HINT in response.json()["detail"]
    assert client.get("/search", headers={"Authorization": "Bearer kn_whatever"}).json()["detail"] == response.json()["detail"]
    assert client.get("/health").status_code == 200  # open, for load balancers and monitors
    assert not service.keys.any_keys()


def test_no_key_a_bad_key_or_a_revoked_key_is_401(app, service):
    admin = authorize(client_for(app), "admin", "root")
    reader = key_headers(service.settings, "reader", "ana")
    assert admin.get("/search", headers=reader).status_code == 200

    missing = client_for(app).get("/search")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.json()["detail"] == "an API key is needed: send `Authorization: Bearer <key>`"
    for header in ("Bearer kn_not-a-key", "Bearer not-even-the-prefix", "Bearer ", "Basic YW5hOnNlY3JldA==", reader["Authorization"][7:]):
        bad = client_for(app).get("/search", headers={"Authorization": header})
        assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer", header
        assert FIRST_KEY_HINT not in bad.json()["detail"]  # keys exist: no first-key advice

    revoked = admin.delete("/keys/ana")
    assert revoked.status_code == 200 and revoked.json() == {**revoked.json(), "name": "ana", "revoked": True}
    after = client_for(app).get("/search", headers=reader)
    assert after.status_code == 401 and after.json()["detail"] == "the API key is unknown or revoked"
    assert admin.delete("/keys/ana").status_code == 200  # revoking again changes nothing
    assert admin.delete("/keys/nobody").status_code == 404
    assert admin.post("/keys", json={"name": "ana", "role": "reader"}).status_code == 409  # a name is never reused


# -- keys ----------------------------------------------------------------------------------------


def test_keys_are_stored_hashed_and_never_listed(app, service, tmp_path):
    admin = authorize(client_for(app), "admin", "root")
    created = admin.post("/keys", json={"name": "bo", "role": "trainer"})
    assert created.status_code == 201
    token = created.json()["key"]
    assert token.startswith("kn_") and len(token) > 40
    assert created.json() == {**created.json(), "name": "bo", "role": "trainer", "revoked": False, "revoked_at": None}
    assert client_for(app).get("/keys", headers={"Authorization": f"Bearer {token}"}).status_code == 403  # trainer, not admin

    stored = b"".join(path.read_bytes() for path in tmp_path.glob("keys.sqlite3*"))  # the WAL too
    assert token.encode() not in stored and token[3:].encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    assert oct(os.stat(service.settings.keys_path).st_mode & 0o777) == "0o600"

    listed = admin.get("/keys")
    assert [k["name"] for k in listed.json()["keys"]] == ["root", "bo"]
    assert set(listed.json()["keys"][1]) == {"name", "role", "created_at", "revoked", "revoked_at"}
    assert token not in listed.text and hashlib.sha256(token.encode()).hexdigest() not in listed.text

    assert admin.post("/keys", json={"name": "x", "role": "owner"}).status_code == 422
    assert admin.post("/keys", json={"name": "has space", "role": "reader"}).status_code == 422
    assert admin.post("/keys", json={"name": "ok", "role": "reader", "key": "mine"}).status_code == 422


def test_the_key_store_checks_names_and_roles(tmp_path):
    store = KeyStore(tmp_path / "keys.sqlite3")
    assert not store.any_keys() and store.list() == []
    token = store.create("ana@desk-2", "intake")
    assert store.verify(token).name == "ana@desk-2" and store.any_keys()
    assert store.verify(token + "x") is None and store.verify("") is None
    with pytest.raises(KeyExistsError):
        store.create("ana@desk-2", "reader")
    for name, role in (("", "reader"), ("-ana", "reader"), ("a/b", "reader"), ("x" * 101, "reader"), ("ana2", "root")):
        with pytest.raises(KeyStoreError):
            store.create(name, role)
    assert store.revoke("ana@desk-2").revoked and store.verify(token) is None
    store.close()


# -- writes record the key's name ----------------------------------------------------------------


def test_writes_record_the_keys_name(app, service):
    service.ingest([Document.create("Police seized fake insulin pens in Lagos.", id="case-1")])
    intake = authorize(client_for(app), "intake", "desk-7")
    accepted = intake.post("/documents", json={"text": "Seized 3 t of gutter oil."})
    assert accepted.status_code == 202
    assert intake.get(accepted.json()["status_url"]).json()["submitted_by"] == "desk-7"
    bulk = intake.post("/documents/bulk", json={"documents": [{"text": "Seized fake honey."}]})
    assert intake.get(bulk.json()["status_url"]).json()["submitted_by"] == "desk-7"

    trainer = authorize(client_for(app), "trainer", "ana")
    mismatch = trainer.post("/documents/case-1/review", json={"reviewer": "someone-else"})
    assert mismatch.status_code == 422 and "the reviewer recorded is the key's name" in mismatch.json()["detail"]
    assert service.index.get("case-1").review is None  # nothing recorded
    reviewed = trainer.post("/documents/case-1/review")  # no body: the key says who
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "ana"
    assert trainer.post("/documents/case-1/review", json={"reviewer": "ana"}).status_code == 200  # older clients' body
    other = authorize(client_for(app), "admin", "bo").post("/documents/case-1/review")
    assert other.status_code == 409 and "already reviewed by ana" in other.json()["detail"]
    assert trainer.get("/documents/case-1").json()["review"]["reviewed_by"] == "ana"


# -- CLI and docs --------------------------------------------------------------------------------


def test_cli_creates_lists_and_revokes_keys_locally_and_its_key_works_on_the_api(app, service, tmp_path):
    made = run_cli(["keys", "create", "--role", "intake", "--name", "scanner"], tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()  # the key alone on standard output
    assert token.startswith("kn_") and "\n" not in token
    assert f"Authorization: Bearer {token}" in made.stderr and "shown this once" in made.stderr
    client = client_for(app, {"Authorization": f"Bearer {token}"})
    assert client.post("/documents", json={"text": "Seized fake honey."}).status_code == 202
    assert client.get("/search").status_code == 200 and client.get("/keys").status_code == 403

    again = run_cli(["keys", "create", "--role", "admin", "--name", "scanner"], tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert run_cli(["keys", "create", "--role", "owner", "--name", "x"], tmp_path).returncode == 2

    listed = run_cli(["keys", "list"], tmp_path)
    assert listed.returncode == 0 and "scanner" in listed.stdout and "intake" in listed.stdout and "active" in listed.stdout
    assert token not in listed.stdout

    revoked = run_cli(["keys", "revoke", "scanner"], tmp_path)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert client.get("/search").status_code == 401  # the running app sees it at once
    assert run_cli(["keys", "revoke", "nobody"], tmp_path).returncode == 2


def test_serve_says_how_to_create_the_first_admin_key(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "kunlun_cli", "serve", "--port", str(port), "--workers", "0"],
                              cwd=ROOT, env=cli_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([server.stderr], [], [], 120)
        assert ready, "serve printed nothing"
        assert FIRST_KEY_HINT in server.stderr.readline() + server.stderr.readline()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


def test_openapi_documents_the_bearer_scheme(app):
    spec = client_for(app).get("/openapi.json").json()
    (scheme,) = spec["components"]["securitySchemes"].values()
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer" and "keys create" in scheme["description"]
    paths = spec["paths"]
    assert "security" not in paths["/health"]["get"]
    assert paths["/search"]["get"]["security"] and "401" in paths["/search"]["get"]["responses"]
    assert {"401", "403"} <= set(paths["/documents"]["post"]["responses"]) and {"401", "403"} <= set(paths["/keys"]["post"]["responses"])
    assert paths["/documents/{doc_id}/review"]["post"].get("requestBody", {}).get("required") is not True  # the body is optional now


def test_roles_are_declared_in_one_place():
    assert ROLES == ("reader", "intake", "trainer", "admin") and set(ADMITS) == set(ROLES)
    assert all("admin" in admitted for admitted in ADMITS.values())
    assert Path(Settings(data_dir=Path("d")).keys_path) == Path("d/keys.sqlite3")
