"""The request body cap (api/limits.py) on the real app: in process, and behind a real uvicorn."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kunlun_nlp.config import Settings
from kunlun_nlp.service import KunlunService
from tests.keys import authorize, create_key

ROOT = Path(__file__).resolve().parents[1]
CAP = 64 * 1024


@pytest.fixture
def client(tmp_path):
    service = KunlunService(Settings(data_dir=tmp_path, max_request_bytes=CAP))
    with authorize(TestClient(create_app(service), base_url="http://localhost"), "intake") as test_client:
        yield test_client


def test_a_body_declared_over_the_cap_is_refused_unread(client):
    response = client.post("/documents/bulk", content=b"x" * (CAP + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert f"{CAP + 1:,} bytes" in detail and f"limit of {CAP:,} bytes" in detail and "KUNLUN_MAX_REQUEST_BYTES" in detail
    assert response.headers["connection"] == "close"


def test_a_streamed_body_is_counted_up_to_the_cap(client):
    chunks = (b"x" * 8192 for _ in range(64))  # no Content-Length: httpx sends it chunked
    response = client.post("/documents/bulk", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413
    # refused by counting what arrived (the test client sends it all; a real server stops reading:
    # test_a_real_server_refuses_an_oversize_chunked_body_without_buffering_it)
    assert "more bytes than that, over the limit of 65,536 bytes" in response.json()["detail"]


def test_a_body_within_the_cap_reaches_the_route(client):
    within = client.post("/documents/bulk", json={"documents": []})  # read and validated by the route
    assert within.status_code == 422 and "documents" in within.json()["detail"]
    streamed = client.post("/documents/bulk", content=iter([b'{"documents": ', b"[]}"]), headers={"content-type": "application/json"})
    assert streamed.status_code == 422


def test_the_cap_is_a_setting(monkeypatch):
    assert Settings().max_request_bytes == 50 * 2**20
    monkeypatch.setenv("KUNLUN_MAX_REQUEST_BYTES", "1000")
    assert Settings.from_env().max_request_bytes == 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _http(port: int, head: str, body_chunks=()) -> tuple[int, dict]:
    """Send a request (chunked when `body_chunks` are given) and stop sending once an answer has
    come, as a client should when a server refuses early."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
        raw = b""
        while b"\r\n\r\n" not in raw or len(raw.partition(b"\r\n\r\n")[2]) < _length(raw):
            data = sock.recv(65536)
            if not data:
                break
            raw += data
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2] or b"null")


def _length(raw: bytes) -> int:
    for line in raw.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_a_real_server_refuses_an_oversize_chunked_body_without_buffering_it(tmp_path):
    port = _free_port()
    cap = 1 * 2**20
    env = {**os.environ, "KUNLUN_DATA_DIR": str(tmp_path), "KUNLUN_MAX_REQUEST_BYTES": str(cap)}
    key = create_key(tmp_path, "intake")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode() if server.stderr else ""
                time.sleep(0.2)
        declared, _ = _http(port, f"POST /documents/bulk HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {cap + 1}\r\n\r\n")
        assert declared == 413
        before = _peak_rss_kb(server.pid)

        head = "POST /documents/bulk HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        status, body = _http(port, head, (b"x" * 65536 for _ in range(2048)))  # 128 MiB offered
        assert status == 413 and f"limit of {cap:,} bytes" in body["detail"]
        assert _peak_rss_kb(server.pid) - before < 48 * 1024  # KB: a few copies of the cap, not 128 MiB

        status, _ = _http(port, f"GET /documents/none HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n")
        assert status in (404, 503)  # the server goes on answering
    finally:
        server.terminate()
        server.wait(timeout=30)
