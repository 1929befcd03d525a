"""A live service for the browser: the real app under uvicorn, in a thread of the test process, on
127.0.0.1 and a port the system picked, over a data folder of its own whose embedded index holds
real reports tagged by the shipped model (tests/browser/reports.py), with a key per role."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from api.app import create_app
from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document
from kunlun_nlp.keys import ROLES
from kunlun_nlp.service import KunlunService

INTAKE_NAME = "intake-desk"  # the name the reports' intake job records as who submitted it


@dataclass
class LiveService:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    service: KunlunService  # the one the server answers from: tests may read (or arrange) state through it
    keys: dict[str, str]  # role -> API key; each key is named "<role>-analyst"
    documents: list[str]  # ids of the indexed reports, in intake order
    job: str  # the intake job that ingested them
    timings: dict[str, float] = field(default_factory=dict)  # seconds per start-up step
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def at(self, path: str) -> str:
        """The absolute URL of a path on the service: live.at("/ui/search?q=ghee")."""
        return self.url + path

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True  # the app's lifespan closes the service
            self._thread.join(timeout=30)


def start_live_service(data_dir: Path, reports: list[Document]) -> LiveService:
    timings: dict[str, float] = {}
    began = time.monotonic()
    service = KunlunService(Settings(data_dir=data_dir))  # the active (shipped) model version, the embedded index
    job = service.submit(reports, submitted_by=INTAKE_NAME)  # through the queue, as the API's intake does
    service.work_here(job, timeout=300)
    status = service.queue.status(job)
    if status.failed or status.done != len(reports):
        raise RuntimeError(f"intake of the browser tests' reports did not finish cleanly: {status}")
    timings["tag and index reports"] = time.monotonic() - began

    keys = {role: service.keys.create(f"{role}-analyst", role) for role in ROLES}
    began = time.monotonic()
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # bound here: no race for a free port
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(create_app(service), log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, name="live-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the live service did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    timings["start the server"] = time.monotonic() - began
    return LiveService(f"http://127.0.0.1:{port}", service, keys, [r.id for r in reports], job, timings, server, thread)
