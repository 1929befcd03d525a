"""API keys for tests: a real key of a role, created in the service's data folder, sent as the
API expects it. Every API test authenticates through these:

    client = authorize(TestClient(create_app(service)), "trainer")        # every request sends it
    response = client.post(..., headers=key_headers(settings, "intake"))  # one request
"""

from __future__ import annotations

import secrets
from pathlib import Path

from kunlun_nlp.config import Settings
from kunlun_nlp.keys import KeyStore


def create_key(data_dir: Path | str | Settings, role: str, name: str | None = None) -> str:
    """A new key's token in that data folder (or the settings' one); a fresh name unless given."""
    path = data_dir.keys_path if isinstance(data_dir, Settings) else Settings(data_dir=Path(data_dir)).keys_path
    store = KeyStore(path)
    try:
        return store.create(name or f"test-{role}-{secrets.token_hex(3)}", role)
    finally:
        store.close()


def key_headers(settings: Settings | Path | str, role: str = "admin", name: str | None = None) -> dict[str, str]:
    """The header of a new key of `role` (settings, or a data folder such as a served API's)."""
    return {"Authorization": f"Bearer {create_key(settings, role, name)}"}


def authorize(client, role: str = "admin", name: str | None = None):
    """Make every request of a TestClient send a new key of `role` (replacing any it sent); the
    same client back. The key goes into the data folder of the app's service."""
    client.headers.update(key_headers(client.app.state.service.settings, role, name))
    return client


authorized = authorize  # the name the shared design first gave it
