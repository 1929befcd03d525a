"""Intake under faults, end to end on the engine backend with the real pipeline: the engine going
away mid-job, a worker killed with SIGKILL mid-batch, the API killed while accepting a batch; and a
watched folder across a restart. Each counts what was acknowledged against what was stored."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from kunlun_nlp.config import Settings
from kunlun_nlp.index.engine import SearchEngineIndex
from kunlun_nlp.queue import IntakeQueue
from kunlun_nlp.service import KunlunService
from kunlun_nlp.testing.queue_contract import RecordingHandler
from tests.faults import TcpProxy
from tests.keys import key_headers

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parents[1]
SAMPLE_FILES = ROOT / "corpora" / "sample" / "files"


def reports(count: int, tag: str) -> list[dict]:
    places = ["Lagos", "Zhengzhou", "Duluth", "Hyderabad", "Rotterdam", "Manaus"]
    return [
        {"id": f"{tag}-{n}", "title": f"Seizure {n}",
         "text": f"Customs officers in {places[n % len(places)]} seized {100 + n} counterfeit insulin pens "
                 f"and {n + 2} tonnes of illegal pesticide from a warehouse run by Apex Trading {n} Ltd."}
        for n in range(count)
    ]


def documents(payloads: list[dict]):
    from kunlun_nlp.document import Document

    return [Document.create(p["text"], title=p["title"], id=p["id"]) for p in payloads]


def engine_count(engine_url: str, index_name: str) -> int:
    index = SearchEngineIndex(engine_url, index_name=index_name)
    try:
        return index.count()
    finally:
        index.close()


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUNLUN_")}
    return env | {"KUNLUN_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"} | extra


def serve(env: dict[str, str], *, port: int, workers: int) -> tuple[subprocess.Popen, str]:
    """`kunlun-nlp serve` in a process of its own, once it answers."""
    server = subprocess.Popen([sys.executable, "-m", "kunlun_cli", "serve", "--port", str(port), "--workers", str(workers)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return server, base


def test_engine_stopping_mid_job_is_waited_out_and_every_document_is_indexed(engine_url, pipeline, tmp_path):
    parts = urlsplit(engine_url)
    proxy = TcpProxy(parts.hostname, parts.port)
    index_name = f"kunlun-test-{uuid.uuid4().hex[:10]}"
    index = SearchEngineIndex(proxy.url, index_name=index_name, timeout=3)
    service = KunlunService(Settings(data_dir=tmp_path), pipeline_factory=lambda: pipeline, index=index)
    queue = IntakeQueue(f"sqlite://{tmp_path}/queue.sqlite3", batch_size=8, retry_delays=(0.5, 1.0))
    service._queue = queue
    try:
        index.ensure_index()
        job = service.submit(documents(reports(24, "outage")))
        from kunlun_nlp.queue.workers import ingest_batch

        queue.handler = lambda batch: ingest_batch(service, batch)
        assert queue.run_one() and queue.status(job).done == 8
        proxy.cut()  # the engine goes away mid-job
        assert queue.run_one()
        down = queue.status(job)
        assert (down.done, down.queued, down.state) == (8, 16, "retrying")
        time.sleep(1.0)
        assert queue.run_one()  # the retry meets the outage again and waits longer
        assert queue.status(job).retrying
        proxy.restore()
        queue.work_here(until=lambda: queue.status(job).finished, timeout=120)
        status = queue.status(job)
        assert (status.done, status.failed) == (24, 0)
        assert engine_count(engine_url, index_name) == 24  # acknowledged 24, stored 24
    finally:
        proxy.close()
        SearchEngineIndex(engine_url, index_name=index_name).drop()
        service.close()


def test_a_worker_killed_mid_batch_has_its_documents_delivered_again(engine_url, tmp_path):
    index_name = f"kunlun-test-{uuid.uuid4().hex[:10]}"
    env = cli_env(tmp_path, KUNLUN_ENGINE_URL=engine_url, KUNLUN_INDEX_NAME=index_name, KUNLUN_QUEUE_LEASE_SECONDS="3")
    queue = IntakeQueue(f"sqlite://{tmp_path}/queue.sqlite3")
    job = queue.submit(documents(reports(48, "killed")))  # 3 batches of 16
    pool = subprocess.Popen([sys.executable, "-m", "kunlun_cli", "worker", "--workers", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        victim = None
        deadline = time.monotonic() + 180
        while victim is None and time.monotonic() < deadline:  # a worker starts a batch: kill it then
            leases = queue._many("lease", job, 3)
            victim = next((lease["pid"] for lease in leases.values() if lease["state"] == "running"), None)
            time.sleep(0.02)
        assert victim is not None and victim != pool.pid, "no worker started a batch"
        os.kill(victim, signal.SIGKILL)
        while not queue.status(job).finished and time.monotonic() < deadline:
            time.sleep(0.5)
        status = queue.status(job)
        assert (status.done, status.failed) == (48, 0), status
        # none lost, none doubled: 48 acknowledged, 48 distinct documents stored
        assert engine_count(engine_url, index_name) == 48
    finally:
        pool.send_signal(signal.SIGINT)
        output = pool.communicate(timeout=60)[0]
        SearchEngineIndex(engine_url, index_name=index_name).drop()
    assert "sending it again" in output


def test_an_api_killed_while_accepting_leaves_no_half_acknowledged_job(tmp_path):
    headers = key_headers(tmp_path, "intake")  # in the served API's data folder
    server, base = serve(cli_env(tmp_path), port=18000 + os.getpid() % 1000, workers=0)
    try:
        answers: list[httpx.Response | Exception] = []

        def post(sender: int) -> None:  # bursts of 1,000 back to back, until the server is gone
            for burst in range(1000):
                try:
                    answers.append(httpx.post(f"{base}/documents/bulk", json={"documents": reports(1000, f"burst{sender}-{burst}")},
                                              headers=headers, timeout=60))
                except httpx.TransportError as exc:
                    answers.append(exc)
                    return

        senders = [threading.Thread(target=post, args=(n,)) for n in range(3)]
        for thread in senders:
            thread.start()
        time.sleep(3.0)
        server.send_signal(signal.SIGKILL)  # while bursts are being accepted
        for thread in senders:
            thread.join()
    finally:
        server.kill()
        server.wait()
    acknowledged = [a.json()["job"] for a in answers if isinstance(a, httpx.Response) and a.status_code == 202]
    assert len(acknowledged) >= 1 and sum(isinstance(a, Exception) for a in answers) == 3  # acknowledged some, cut 3 midway

    queue = IntakeQueue(f"sqlite://{tmp_path / 'queue.sqlite3'}", accept_grace_seconds=0)
    handler = RecordingHandler()
    queue.handler = handler
    queue.recover()
    jobs = [str(n) for n in range(1, queue.huey.storage.incr("jobs", 0) + 1)]
    written = [job for job in jobs if queue.status(job) is not None]
    assert set(acknowledged) <= set(written)  # every 202 names a job that exists
    queue.work_here(until=lambda: all(queue.status(job).finished for job in written), timeout=120)
    for job in written:  # a job that exists is whole: all 1000 documents, every one stored
        status = queue.status(job)
        assert (status.documents, status.done) == (1000, 1000)
    assert len(handler.stored) == 1000 * len(written)


def test_a_watched_folder_picks_up_files_across_a_restart(tmp_path):
    inbox, data_dir = tmp_path / "inbox", tmp_path / "data"
    inbox.mkdir()
    env = cli_env(data_dir)
    watch = [sys.executable, "-m", "kunlun_cli", "watch", str(inbox), "--workers", "0", "--once", "--interval", "0.2"]
    (inbox / "lagos.md").write_bytes((SAMPLE_FILES / "lagos_pangolin_scales.md").read_bytes())
    first = subprocess.run(watch, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "1 document(s) stored" in first.stderr

    (inbox / "luoyang.txt").write_bytes((SAMPLE_FILES / "luoyang_waste_oil_inspection.txt").read_bytes())
    second = subprocess.run(watch, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "1 document(s) stored" in second.stderr  # only the new file: the first is remembered as done

    search = subprocess.run([sys.executable, "-m", "kunlun_cli", "search", "--json", "waste", "oil"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert json.loads(search.stdout)["total"] == 1
    count = subprocess.run([sys.executable, "-m", "kunlun_cli", "search", "--json"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert json.loads(count.stdout)["total"] == 2


def test_an_interrupted_ingest_goes_on_where_it_stopped(tmp_path):
    import sqlite3

    from tests.test_cli import parse_summary

    folder, data_dir = tmp_path / "reports", tmp_path / "data"
    folder.mkdir()
    lines = (ROOT / "corpora" / "sample" / "reports.jsonl").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        record = json.loads(line)
        (folder / f"report-{number:02d}.txt").write_text(f"{record['title']}\n\n{record['text']}", encoding="utf-8")
    command = [sys.executable, "-m", "kunlun_cli", "ingest", "-q", "--workers", "1", str(folder)]
    first = subprocess.Popen(command, cwd=ROOT, env=cli_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ledger, deadline = data_dir / "intake-files.sqlite3", time.monotonic() + 240
    while time.monotonic() < deadline:  # Ctrl-C once some files are stored
        try:
            with sqlite3.connect(ledger) as db:
                if db.execute("SELECT count(*) FROM files WHERE done = 1").fetchone()[0]:
                    break
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.1)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=120)
    stored_first = parse_summary(out)[0]
    assert 0 < stored_first < len(lines), err
    assert "run the same ingest again to go on" in err

    second = subprocess.run(command, cwd=ROOT, env=cli_env(data_dir), capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    stored_second, _, in_index = parse_summary(second.stdout)
    assert stored_first + stored_second == in_index == len(lines)  # each document stored once, none lost
    assert f"not read again: {stored_first} file(s)" in second.stdout


def test_served_api_queues_a_bulk_and_its_workers_make_every_document_searchable(engine_url, tmp_path):
    index_name = f"kunlun-test-{uuid.uuid4().hex[:10]}"
    env = cli_env(tmp_path, KUNLUN_ENGINE_URL=engine_url, KUNLUN_INDEX_NAME=index_name)
    headers = key_headers(tmp_path, "intake")  # in the served API's data folder
    server, base = serve(env, port=19000 + os.getpid() % 1000, workers=1)
    try:
        accepted = httpx.post(f"{base}/documents/bulk", json={"documents": reports(40, "served")}, headers=headers, timeout=30)
        assert accepted.status_code == 202, accepted.text
        status, deadline = {}, time.monotonic() + 240
        while status.get("state") != "done" and time.monotonic() < deadline:
            status = httpx.get(base + accepted.json()["status_url"], headers=headers, timeout=10).json()
            time.sleep(0.5)
        assert status == {**status, "state": "done", "documents": 40, "done": 40, "queued": 0, "failed": 0}
        assert status["rate"] > 0 and status["eta_seconds"] == 0
        found = httpx.get(f"{base}/search", params={"q": '"Apex Trading 7 Ltd"'}, headers=headers, timeout=10).json()
        assert [hit["id"] for hit in found["hits"]] == ["served-7"]
        assert httpx.get(f"{base}/search", params={"q": "insulin"}, headers=headers, timeout=10).json()["total"] == 40
        health = httpx.get(f"{base}/health", timeout=10).json()
        assert health["queue"] == {"backend": "sqlite", "reachable": True, "depth": 0, "workers": 1}
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)
        SearchEngineIndex(engine_url, index_name=index_name).drop()
