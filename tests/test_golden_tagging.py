"""Golden output of `kunlun-nlp tag`: the seed notice and every realdev text, recorded before the
pipeline was rebuilt from declared stages (issue 10); any change in what tagging produces shows
here, field by field.

The golden file holds labels, scores and digests, not the texts' words: realdev stays in
../shared and is never copied into the project. Re-record (only for a deliberate change in
behaviour) with `.venv/bin/python -m tests.test_golden_tagging`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from kunlun_nlp.readers import read_file

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
REALDEV = SHARED_DATA / "realdev" / "realdev.jsonl"
SEED = SHARED_DATA / "seed" / "kunlun-2024-deployment.txt"
GOLDEN = Path(__file__).with_name("golden") / "tag-seed-realdev.jsonl"
AS_OF = "2026-12-07"  # recency is judged as of the day the golden file was recorded


def golden_input_lines() -> list[str]:
    """The seed notice as `tag` reads it (one JSON line), then realdev's lines as they are."""
    (seed,) = read_file(SEED)
    record = {"id": "seed-notice", "title": seed.title, "text": seed.text}
    if seed.published:
        record["published"] = seed.published.isoformat()
    return [json.dumps(record, ensure_ascii=False), *REALDEV.read_text(encoding="utf-8").splitlines()]


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def fingerprint(summary: dict) -> dict:
    """Labels and scores as they are; every field that quotes the text as a digest."""
    return {
        "id": summary["id"],
        "domains": summary["domains"],
        "subtypes": summary["subtypes"],
        "priority": summary["priority"]["score"] if summary["priority"] else None,
        "digests": {
            name: _digest(summary[name] if name != "priority" else summary["priority"])
            for name in ("entities", "evidence", "cases", "priority")
        },
        "entity_labels": sorted(e["label"] for e in summary["entities"]),
    }


if __name__ == "__main__":  # record: reads `kunlun-nlp tag` output on standard input
    GOLDEN.parent.mkdir(exist_ok=True)
    rows = [fingerprint(json.loads(line)) for line in sys.stdin if line.strip()]
    GOLDEN.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} fingerprints to {GOLDEN}")


def test_tag_output_is_unchanged_for_the_seed_and_realdev(tmp_path, capsys, monkeypatch):
    """`kunlun-nlp tag` with the shipped model gives, document by document and field by field, what
    it gave when the golden file was recorded."""
    from kunlun_cli.main import main

    source = tmp_path / "input.jsonl"
    source.write_text("\n".join(golden_input_lines()) + "\n", encoding="utf-8")
    monkeypatch.delenv("KUNLUN_MODEL", raising=False)
    capsys.readouterr()
    assert main(["tag", "--as-of", AS_OF, "--data-dir", str(tmp_path / "no-index"), str(source)]) == 0
    got = [fingerprint(json.loads(line)) for line in capsys.readouterr().out.splitlines() if line.strip()]
    want = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    assert len(got) == len(want) == 154
    differences = [
        f"{w['id']}: {', '.join(k for k in w if g.get(k) != w[k])}" for g, w in zip(got, want) if g != w
    ]
    assert not differences, "tag output changed for: " + "; ".join(differences[:20])
