"""The labeled corpus in corpora/labeled: validation and span computation.

    python -m training.corpus validate FILE...   check every record against corpora/GUIDELINES.md
    python -m training.corpus spans FILE...      (re)compute `spans` from `entities`, in place
    python -m training.corpus stats [FILE...]    counts per domain, sub-type, genre, region, length
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from kunlun_nlp.labels.spans import find_spans
from kunlun_nlp.vocabulary import DOMAIN_LABELS, ENTITY_LABELS, SUBTYPE_LABELS

CORPUS_DIR = Path(__file__).resolve().parents[1] / "corpora" / "labeled"
GENRES = ("press_release", "news", "inspection_report", "court_summary", "notice", "round_up")
REQUIRED = ("id", "title", "text", "domains", "subtypes", "entities", "genre", "region")


def record_problems(record: dict[str, Any]) -> list[str]:
    problems = [f"missing field {f!r}" for f in REQUIRED if f not in record]
    if problems:
        return problems
    text = record["text"]
    if not isinstance(text, str) or len(text.split()) < 12:
        problems.append("text shorter than 12 words")
    domains = record["domains"]
    if not isinstance(domains, list) or any(d not in DOMAIN_LABELS for d in domains) or len(set(domains)) != len(domains):
        problems.append(f"bad domains {domains!r}")
        domains = []
    for subtype in record["subtypes"]:
        if subtype not in SUBTYPE_LABELS:
            problems.append(f"unknown subtype {subtype!r}")
        elif subtype.split(".")[0] not in domains:
            problems.append(f"subtype {subtype!r} without its domain")
    if record["genre"] not in GENRES:
        problems.append(f"unknown genre {record['genre']!r}")
    entities = record["entities"]
    if not isinstance(entities, dict):
        return [*problems, "entities must be an object of label -> list of strings"]
    for label, mentions in entities.items():
        if label not in ENTITY_LABELS:
            problems.append(f"unknown entity label {label!r}")
            continue
        for mention in mentions:
            if not isinstance(mention, str) or not mention.strip():
                problems.append(f"{label}: empty mention")
            elif mention not in text:
                problems.append(f"{label}: {mention!r} does not occur in the text")
            elif mention != mention.strip():
                problems.append(f"{label}: {mention!r} has surrounding spaces")
    return problems


def compute_spans(record: dict[str, Any]) -> list[list[Any]]:
    """Every occurrence of every mention, whole words only; overlaps resolved longest-first."""
    return [list(span) for span in find_spans(record["text"], record["entities"])]


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _files(args: list[str]) -> list[Path]:
    return [Path(a) for a in args] if args else sorted(CORPUS_DIR.glob("*.jsonl"))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("validate", "spans", "stats"):
        print(__doc__, file=sys.stderr)
        return 2
    command, files = argv[0], _files(argv[1:])
    failures = 0
    seen: dict[str, Path] = {}
    stats: dict[str, Counter] = {k: Counter() for k in ("domains", "subtypes", "genre", "region", "length")}
    for path in files:
        try:
            records = read_records(path)
        except json.JSONDecodeError as exc:
            print(f"{path}: invalid JSON: {exc}")
            failures += 1
            continue
        for number, record in enumerate(records, start=1):
            problems = record_problems(record)
            if record.get("id") in seen:
                problems.append(f"duplicate id (also in {seen[record['id']]})")
            seen[record.get("id")] = path
            for problem in problems:
                print(f"{path}:{number} ({record.get('id')}): {problem}")
            failures += bool(problems)
            if command == "spans" and not problems:
                record["spans"] = compute_spans(record)
            if command == "stats":
                for d in record["domains"] or ["none"]:
                    stats["domains"][d] += 1
                stats["subtypes"].update(record["subtypes"])
                stats["genre"][record["genre"]] += 1
                stats["region"][record["region"]] += 1
                words = len(record["text"].split())
                stats["length"]["<60" if words < 60 else "60-199" if words < 200 else "200-499" if words < 500 else "500+"] += 1
        if command == "spans":
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    if command == "stats":
        print(f"{len(seen)} records in {len(files)} files")
        for name, counter in stats.items():
            print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))
    print(f"{len(seen)} records checked, {failures} with problems", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
