"""What the page's server-side tests share: a client of the real app signed in by the sign-in
form with a key of a role, and a view read as HTML."""

from __future__ import annotations

import lxml.html
from fastapi.testclient import TestClient

from api.app import create_app
from kunlun_nlp.service import KunlunService
from tests.test_page_session import sign_in


def client_as(service: KunlunService, role: str, name: str | None = None, next_path: str = "/ui/search") -> TestClient:
    client = TestClient(create_app(service), base_url="http://localhost")
    assert sign_in(client, role, name, next_path=next_path).status_code == 303
    return client


def page(client: TestClient, url: str, status: int = 200) -> lxml.html.HtmlElement:
    answer = client.get(url)
    assert answer.status_code == status, (url, answer.status_code, answer.text[:500])
    return lxml.html.fromstring(answer.text)
