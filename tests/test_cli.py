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
    assert run_cli(["triage", "--note", "no report named"], data_dir).returncode == 2
    assert run_cli(["triage", "--review", top, "--by", "ana", "--note", "x" * 2_001], data_dir).returncode == 2
    done = run_cli(["triage", "--review", top, "--by", "ana", "--note", "Genuine: customs confirmed it."], data_dir)
    assert done.returncode == 0 and f"reviewed {top} by ana" in done.stdout and "note: Genuine: customs confirmed it." in done.stdout
    (hit,) = json.loads(run_cli(["search", "--reviewed", "--json"], data_dir).stdout)["hits"]
    assert (hit["id"], hit["review_note"]) == (top, "Genuine: customs confirmed it.")
    clash = run_cli(["triage", "--review", top, "--by", "bo"], data_dir)
    assert clash.returncode == 1 and "already reviewed by ana" in clash.stderr
    assert run_cli(["triage", "--review", top], data_dir).returncode == 2
    text = run_cli(["triage"], data_dir)
    assert "39 report(s) waiting for review" in text.stdout and top not in text.stdout


def test_ingest_again_skips_unchanged_files_and_again_does_not_grow_the_index(ingested):
    result = run_cli(["ingest", "-q", *SAMPLE_INPUTS], ingested["data_dir"])
    assert result.returncode == 0, result.stderr
    assert parse_summary(result.stdout) == (0, 0, 40)  # every file was stored before, unchanged
    assert re.search(r"not read again: (\d+) file\(s\)", result.stdout).group(1) == str(1 + len(list((SAMPLE / "files").iterdir())))

    again = run_cli(["ingest", "-q", "--again", "--workers", "0", *SAMPLE_INPUTS], ingested["data_dir"])
    assert again.returncode == 0, again.stderr
    assert parse_summary(again.stdout) == (40, 0, 40)  # read and stored again, under the same ids


COUNTS = re.compile(
    r"counts: ingested (\d+), split (\d+) \(into (\d+) parts\), failed (\d+), unsupported (\d+), ignored (\d+)"
)


def parse_counts(stdout: str) -> dict[str, int]:
    match = COUNTS.search(stdout)
    assert match, stdout
    names = ("ingested", "split", "parts", "failed", "unsupported", "ignored")
    return dict(zip(names, map(int, match.groups()), strict=True))


def raw_intake_folder(root: Path) -> Path:
    """A scraped folder as it comes: Word and e-mail files, a 5 MB dump, junk to skip and to list."""
    from email.message import EmailMessage

    import docx

    folder = root / "intake"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "config").write_text("[core]\n", encoding="utf-8")  # hidden folder: ignored
    (folder / ".~lock.case.docx#").write_text("x", encoding="utf-8")  # hidden file: ignored
    (folder / "build").mkdir()
    (folder / "build" / "page.html").write_text("<p>x</p>", encoding="utf-8")  # .kunlunignore: ignored
    (folder / "scraper.log").write_text("GET /news 200\n", encoding="utf-8")  # .kunlunignore: ignored
    (folder / ".kunlunignore").write_text("build/\n*.log\n", encoding="utf-8")
    (folder / "prices.xlsx").write_bytes(b"PK\x03\x04")  # unsupported: listed
    # 5 MB that decodes as UTF-8 but is binary data: refused with the reason, the run goes on
    (folder / "dump.txt").write_text("\x00\x01\x02\x1b binary " * 400_000, encoding="utf-8")
    (folder / "luoyang.txt").write_text((SAMPLE / "files" / "luoyang_waste_oil_inspection.txt").read_text(encoding="utf-8"), encoding="utf-8")

    word = docx.Document()
    word.core_properties.title = "Jinan clinic sold counterfeit rabies vaccine"
    word.add_paragraph("Police in Jinan seized 4,000 doses of counterfeit rabies vaccine from the Quanfu clinic.")
    table = word.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Owner"
    table.cell(0, 1).text = "Zhao Minghui, detained"
    word.save(folder / "jinan.docx")

    message = EmailMessage()
    message["Subject"] = "Harbin regulators seize fake wild honey"
    message["From"] = "Harbin Market Regulation <press@harbin.example>"
    message["Date"] = "Tue, 09 Jul 2024 10:00:00 +0800"
    message.set_content("Market regulators in Harbin seized 3 tonnes of syrup sold as wild honey in Daoli district.\n")
    message.add_attachment(
        b"Inspection notes: the Fengmi warehouse held 600 jars of relabelled syrup.\n",
        maintype="text",
        subtype="plain",
        filename="inspection-notes.txt",
    )
    message.add_attachment(b"jar,count\n", maintype="text", subtype="csv", filename="jars.csv")
    (folder / "harbin.eml").write_bytes(bytes(message))
    return folder


@pytest.fixture(scope="module")
def raw_intake(tmp_path_factory):
    work = tmp_path_factory.mktemp("raw")
    folder = raw_intake_folder(work)
    data_dir = work / "data"
    return {"result": run_cli(["ingest", "-q", str(folder)], data_dir), "folder": folder, "data_dir": data_dir}


def test_raw_folder_ingest_lists_and_counts_everything(raw_intake):
    result, folder = raw_intake["result"], raw_intake["folder"]
    assert result.returncode == 1, result.stderr  # some inputs were not ingested
    # luoyang.txt, jinan.docx, the e-mail and its text attachment
    assert parse_counts(result.stdout) == {
        "ingested": 4, "split": 0, "parts": 0, "failed": 1, "unsupported": 2, "ignored": 4
    }
    indexed, failures, in_index = parse_summary(result.stdout)
    assert (indexed, failures, in_index) == (4, 1, 4)
    lines = result.stderr.splitlines()
    assert f"unsupported: {folder / 'prices.xlsx'}: unsupported format .xlsx" in lines
    assert f"unsupported: {folder / 'harbin.eml'}#jars.csv: unsupported format .csv" in lines
    (refused,) = [line for line in lines if line.startswith("failed: ")]
    assert refused.startswith(f"failed: {folder / 'dump.txt'}: refused: ")
    assert "over the 200,000 limit" in refused and "binary data" in refused
    assert "Traceback" not in result.stderr and "E088" not in result.stderr


def test_raw_folder_word_and_email_documents_are_searchable(raw_intake):
    data_dir = raw_intake["data_dir"]
    result = run_cli(["search", "rabies", "vaccine", "--json"], data_dir)
    assert result.returncode == 0, result.stderr
    (hit,) = json.loads(result.stdout)["hits"]
    assert hit["title"] == "Jinan clinic sold counterfeit rabies vaccine"
    result = run_cli(["search", "syrup", "--json", "--sort", "date"], data_dir)
    hits = json.loads(result.stdout)["hits"]
    # the e-mail and its attachment (whose stored title the pipeline's headline stage may take from its text)
    assert len(hits) == 2 and "Harbin regulators seize fake wild honey" in {h["title"] for h in hits}
    assert {h["published"] for h in hits} == {"2024-07-09"}
    assert {h["source"] for h in hits} == {"Harbin Market Regulation <press@harbin.example>"}


class _NoModels:
    """Stands in for the tagging pipeline: these runs test reading, splitting, progress and
    counting on a 5 MB file, which the real models would take many minutes to tag on a laptop."""

    batch_size = 16

    def __init__(self) -> None:
        self.seen: list = []

    def tag(self, documents, **_context):
        from kunlun_nlp.document import TaggedDocument
        from kunlun_nlp.testing.synthetic import unit_vector

        self.seen.extend(documents)
        return [
            TaggedDocument(document=d, domain_scores=[], domains=[], entities=[], embedding=unit_vector(len(self.seen) + i))
            for i, d in enumerate(documents)
        ]


def ingest_in_process(monkeypatch, capsys, data_dir: Path, args: list[str]):
    from kunlun_cli import main as cli
    from kunlun_nlp.config import Settings
    from kunlun_nlp.service import KunlunService

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM"):
        monkeypatch.setenv(name, os.environ.get(name, "1"))  # main() sets them; restored afterwards
    pipeline = _NoModels()
    monkeypatch.setattr(
        cli, "service_of", lambda _args: KunlunService(Settings(data_dir=data_dir), pipeline_factory=lambda: pipeline)
    )
    code = cli.main(["ingest", "--workers", "0", *args])  # in this process: the stub pipeline sees every document
    captured = capsys.readouterr()
    return code, captured.out, captured.err, pipeline.seen


def test_five_megabyte_txt_in_a_folder_is_split_and_the_rest_ingested(tmp_path, monkeypatch, capsys):
    from kunlun_nlp.limits import MAX_TEXT_CHARS

    folder = tmp_path / "intake"
    folder.mkdir()
    rng = random.Random(3)
    words = "officers seized counterfeit insulin pens warehouse port customs suspects tonnes river waste".split()
    paragraphs = [
        " ".join(" ".join(rng.choice(words) for _ in range(14)).capitalize() + "." for _ in range(5)) for _ in range(9_500)
    ]
    (folder / "archive.txt").write_text("Scraped archive\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    assert (folder / "archive.txt").stat().st_size > 5_000_000
    for name in ("luoyang_waste_oil_inspection.txt", "lagos_pangolin_scales.md", "hyderabad_counterfeit_cancer_drug.html"):
        (folder / name).write_bytes((SAMPLE / "files" / name).read_bytes())

    code, out, err, seen = ingest_in_process(monkeypatch, capsys, tmp_path / "data", [str(folder)])

    assert code == 0, err  # split is not failed: every word went in
    parts = [d for d in seen if re.search(r"-part\d+$", d.id)]
    counts = parse_counts(out)
    assert counts == {
        "ingested": 3 + len(parts), "split": 1, "parts": len(parts), "failed": 0, "unsupported": 0, "ignored": 0
    }
    assert len(parts) >= 5_000_000 // MAX_TEXT_CHARS
    assert all(len(d.text) <= MAX_TEXT_CHARS for d in seen)
    assert parts[0].title == f"Scraped archive (part 1 of {len(parts)})"
    assert parts[-1].id.endswith(f"-part{len(parts)}")
    assert {d.title for d in seen} >= {"Inspection Report LY-SJ-2023-0412: Illegal recycling of kitchen waste oil, Yichuan County"}
    assert parse_summary(out)[2] == 3 + len(parts)  # all in the index
    assert f"split: {folder / 'archive.txt'}: over 200,000 characters, into {len(parts)} parts" in err
    # the progress bar counted the files first: a total, a rate and (while running) an ETA
    assert "4/4" in err and "file/s" in err


def test_ingest_quiet_has_no_progress_bar_and_failed_files_listed_last(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "intake"
    folder.mkdir()
    (folder / "good.txt").write_text("Fake wine seized in Yantai\n\nOfficers seized 900 bottles.\n", encoding="utf-8")
    (folder / "bad.pdf").write_bytes(random.Random(11).randbytes(1024))
    (folder / "latin1.txt").write_bytes("Caf\xe9 seized".encode("latin-1"))
    code, out, err, _seen = ingest_in_process(monkeypatch, capsys, tmp_path / "data", ["-q", str(folder)])
    assert code == 1
    assert "file/s" not in err and "ingest:" not in err
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert [line.split(": ")[1] for line in failed] == [str(folder / "bad.pdf"), str(folder / "latin1.txt")]
    assert parse_counts(out)["failed"] == 2 and parse_counts(out)["ingested"] == 1


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


def test_tag_refuses_a_text_over_the_api_limit(tmp_path):
    from kunlun_nlp.limits import MAX_TEXT_CHARS

    stdin = json.dumps({"text": "Police seized fake honey. " * (MAX_TEXT_CHARS // 20)}) + "\n"
    result = run_cli(["tag"], tmp_path / "data", stdin=stdin, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert "<stdin>:1:" in result.stderr and f"more than {MAX_TEXT_CHARS:,}" in result.stderr


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
