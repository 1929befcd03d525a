"""The real `kunlun-nlp` CLI in subprocesses, on the embedded index in a temporary data folder.

Runs that tag documents load the real models (about 15 s per process), so there are only three
of them: ingest, ingest again, tag. Usage errors fail before any model is loaded.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kunlun_nlp.document import content_id
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from kunlun_nlp.vocabulary import ENTITY_LABELS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpora" / "sample"
# reports.jsonl (34) and files/ (6) are the 40 sample documents; the sample folder itself also holds
# README.md and labels.jsonl, which are not reports.
SAMPLE_INPUTS = [str(SAMPLE / "reports.jsonl"), str(SAMPLE / "files")]
SUMMARY = re.compile(
    r"ingested (\d+) document\(s\) into the embedded index at (.+?); (\d+) failure\(s\); (\d+) document\(s\) in the index"
)


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUNLUN_")}
    env["KUNLUN_DATA_DIR"] = str(data_dir)
    return env


def run_cli(args: list[str], data_dir: Path, stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kunlun_cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=cli_env(data_dir),
        timeout=timeout,
    )


def parse_summary(stdout: str) -> tuple[int, int, int]:
    match = SUMMARY.search(stdout)
    assert match, stdout
    return int(match.group(1)), int(match.group(3)), int(match.group(4))


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """One ingest of the sample plus a missing path and a corrupt PDF."""
    work = tmp_path_factory.mktemp("cli")
    data_dir = work / "data"
    missing = work / "does-not-exist"
    bad_pdf = work / "broken.pdf"
    bad_pdf.write_bytes(random.Random(7).randbytes(2048))
    result = run_cli(["ingest", "-q", *SAMPLE_INPUTS, str(missing), str(bad_pdf)], data_dir)
    return {"result": result, "data_dir": data_dir, "missing": missing, "bad_pdf": bad_pdf}


def test_ingest_counts_documents_and_failures(ingested):
    result = ingested["result"]
    assert result.returncode == 1, result.stderr
    indexed, failures, in_index = parse_summary(result.stdout)
    assert indexed == 40
    assert failures == 2
    assert in_index == 40
    assert str(ingested["data_dir"] / "index.sqlite3") in result.stdout
    failed_lines = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed_lines) == 2, result.stderr
    assert any(str(ingested["missing"]) in line and "no such file" in line for line in failed_lines)
    assert any(str(ingested["bad_pdf"]) in line for line in failed_lines)
    assert "failed:" not in result.stdout
    assert (ingested["data_dir"] / "index.sqlite3").is_file()


def test_search_json_finds_ingested_reports(ingested):
    data_dir = ingested["data_dir"]
    result = run_cli(["search", "clenbuterol", "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["total"] >= 1
    assert payload["page"] == 1
    ids = [hit["id"] for hit in payload["hits"]]
    assert "sample-001" in ids
    assert all("clenbuterol" in hit["snippet"].lower() for hit in payload["hits"])

    # A word only in a file from files/ (the markdown report), found by its content id's document.
    result = run_cli(["search", "pangolin", "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["total"] >= 1
    assert any(hit["title"].startswith("Lagos customs seize") for hit in payload["hits"])

    # A word that is in no report.
    result = run_cli(["search", "zzyzxqwv", "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == 0


def test_triage_lists_the_queue_and_reviews(ingested):
    data_dir = ingested["data_dir"]
    listed = run_cli(["triage", "--json", "--size", "50"], data_dir)
    assert listed.returncode == 0, listed.stderr
    queue = json.loads(listed.stdout)
    assert queue["total"] == 40
    scores = [h["priority"] for h in queue["hits"]]
    assert scores == sorted(scores, reverse=True)
    top = queue["hits"][0]["id"]
    done = run_cli(["triage", "--review", top, "--by", "ana"], data_dir)
    assert done.returncode == 0 and f"reviewed {top} by ana" in done.stdout
    clash = run_cli(["triage", "--review", top, "--by", "bo"], data_dir)
    assert clash.returncode == 1 and "already reviewed by ana" in clash.stderr
    assert run_cli(["triage", "--review", top], data_dir).returncode == 2
    text = run_cli(["triage"], data_dir)
    assert "39 report(s) waiting for review" in text.stdout and top not in text.stdout


def test_ingest_again_does_not_grow_the_index(ingested):
    result = run_cli(["ingest", "-q", *SAMPLE_INPUTS], ingested["data_dir"])
    assert result.returncode == 0, result.stderr
    indexed, failures, in_index = parse_summary(result.stdout)
    assert indexed == 40
    assert failures == 0
    assert in_index == 40


def test_tag_reads_jsonl_from_stdin(tmp_path):
    first = "Police in Zhumadian seized clenbuterol pork sold by Shenzhen Huaxin Trading Co., Ltd. to wet markets."
    second = "Drug control officials in Hyderabad seized 1,140 counterfeit vials of the cancer drug Tavoruzel."
    stdin = (
        json.dumps({"text": first})
        + "\n"
        + json.dumps({"id": "given-7", "title": "Fake cancer drug", "text": second, "foo": [1, 2]})
        + "\n"
    )
    result = run_cli(["tag"], tmp_path / "data", stdin=stdin)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    records = [json.loads(line) for line in lines]
    assert records[0]["id"] == content_id(first)
    assert records[1]["id"] == "given-7"
    for record, text in zip(records, (first, second), strict=True):
        assert {"id", "domains", "entities"} <= set(record)  # later fields may be added, none removed
        assert 0 <= record["priority"]["score"] <= 100 and isinstance(record["priority"]["reasons"], list)
        assert isinstance(record["cases"], list)
        domains = record["domains"]
        assert isinstance(domains, list)
        for domain in domains:
            assert set(domain) == {"label", "score"}
            assert domain["label"] in DOMAIN_LABELS
            assert isinstance(domain["score"], float) and 0.0 <= domain["score"] <= 1.0
        scores = [d["score"] for d in domains]
        assert scores == sorted(scores, reverse=True)
        assert len({d["label"] for d in domains}) == len(domains)
        for entity in record["entities"]:
            assert {"label", "text", "start", "end", "normalized"} <= set(entity)
            assert entity["label"] in ENTITY_LABELS
            assert 0 <= entity["start"] < entity["end"] <= len(text)
            assert text[entity["start"] : entity["end"]] == entity["text"]
            assert entity["normalized"]
    assert any(r["domains"] for r in records)  # two plainly in-domain reports: not both "none"
    assert any(r["entities"] for r in records)


def test_tag_invalid_json_line_is_usage_error(tmp_path):
    stdin = json.dumps({"text": "A valid first report about fake wine."}) + "\n" + '{"text": "unterminated\n'
    result = run_cli(["tag"], tmp_path / "data", stdin=stdin, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "<stdin>:2:" in result.stderr
    assert "invalid JSON" in result.stderr


def test_tag_line_without_text_is_usage_error(tmp_path):
    stdin = json.dumps({"id": "a", "title": "no text"}) + "\n"
    result = run_cli(["tag"], tmp_path / "data", stdin=stdin, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "<stdin>:1:" in result.stderr and "text" in result.stderr


def test_search_unknown_domain_is_usage_error(tmp_path):
    result = run_cli(["search", "--domain", "FOO", "pork"], tmp_path / "data", timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown domain 'FOO'" in result.stderr
    assert "FOOD" in result.stderr  # the message lists the valid domains


def test_serve_answers_over_http(tmp_path):
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "kunlun_cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=cli_env(tmp_path / "data"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not answer within 60 s"
                time.sleep(0.3)
        assert health.status_code == 200
        assert health.json()["backend"] == "embedded" and health.json()["reachable"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()["info"]["title"] == "Kunlun NLP"
    finally:
        server.terminate()
        server.wait(timeout=20)
