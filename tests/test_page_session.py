"""Signing in to the analysts' page: the key goes into a session cookie (HttpOnly, SameSite=Strict,
never a URL), the JSON API accepts that cookie, and a write signed in by it must carry the page's
header, so another site cannot make a signed-in browser act."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kunlun_nlp.document import Document
from kunlun_nlp.keys import FIRST_KEY_HINT
from tests.keys import create_key


@pytest.fixture
def service(embedded_service):
    embedded_service.ingest([Document.create("Police seized fake insulin pens in Lagos.", id="insulin")])
    return embedded_service


@pytest.fixture
def client(service):
    return TestClient(create_app(service), base_url="http://localhost")


def sign_in(client: TestClient, role: str, name: str | None = None, next_path: str = "/ui/search"):
    key = create_key(client.app.state.service.settings, role, name)
    return client.post("/ui/sign-in", data={"key": key, "next": next_path}, follow_redirects=False)


def test_home_sends_to_the_search_view_and_a_fresh_install_says_how_to_make_a_key(client):
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/search"
    form = client.get("/ui/sign-in")
    assert form.status_code == 200 and FIRST_KEY_HINT in form.text
    assert 'type="password"' in form.text and '<label for="key">' in form.text


def test_signing_in_sets_a_session_cookie_the_script_cannot_read_and_goes_back(client):
    answer = sign_in(client, "reader", next_path="/ui/trends?interval=week")
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/trends?interval=week"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("kunlun_key=kn_") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "expires" not in cookie.lower() and "max-age" not in cookie.lower()  # ends with the browser session
    assert client.get("/search", params={"q": "insulin"}).json()["total"] == 1  # the API reads the cookie


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "\\\\evil", ""])
def test_sign_in_never_sends_the_analyst_off_the_site(client, target):
    assert sign_in(client, "reader", next_path=target).headers["location"] == "/ui/search"


def test_a_wrong_key_stays_on_the_form_with_a_message(client):
    create_key(client.app.state.service.settings, "reader")
    answer = client.post("/ui/sign-in", data={"key": "kn_not-a-key", "next": "/ui/search"}, follow_redirects=False)
    assert answer.status_code == 401 and "unknown or revoked" in answer.text and "set-cookie" not in answer.headers


def test_a_write_signed_in_by_the_cookie_needs_the_page_header(client, service):
    sign_in(client, "trainer", "ana")
    refused = client.post("/documents/insulin/review", json={})
    assert refused.status_code == 403 and "X-Kunlun-Page" in refused.json()["detail"]
    assert service.index.get("insulin").review is None
    done = client.post("/documents/insulin/review", json={}, headers={"X-Kunlun-Page": "1"})
    assert done.status_code == 200 and done.json()["reviewed_by"] == "ana"


def test_the_cookie_carries_the_keys_role_and_revoking_the_key_ends_the_session(client, service):
    sign_in(client, "reader", "rita")
    refused = client.post("/documents/insulin/review", json={}, headers={"X-Kunlun-Page": "1"})
    assert refused.status_code == 403 and "trainer" in refused.json()["detail"]
    service.keys.revoke("rita")
    assert client.get("/search").status_code == 401


def test_signing_out_forgets_the_key(client):
    sign_in(client, "reader")
    answer = client.post("/ui/sign-out", follow_redirects=False)
    assert answer.status_code == 303 and 'kunlun_key=""' in answer.headers["set-cookie"]
    assert client.get("/search").status_code == 401


def test_pages_go_out_compressed_to_a_browser_that_asks(client):
    sign_in(client, "reader")
    asked = client.get("/ui/search", headers={"Accept-Encoding": "gzip"})
    assert asked.status_code == 200 and asked.headers["content-encoding"] == "gzip"
    assert int(asked.headers["content-length"]) < len(asked.content) / 2  # what travelled, against the page
    plain = client.get("/ui/search", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == asked.text
