"""Labeled samples from files: JSONL in the corpus format (corpora/labeled/*.jsonl) or realtrain's,
and CSV with a `text,domains` header. Every row is checked; the problems of all rows come back
together, each as "line N: reason", and a file with any bad row gives no samples at all (the
store imports a file whole or not at all).

JSONL: `text` (required), `title`, `id` (default: a hash of the text), `domains` (required: a list;
[] or ["OTHER"] / ["NONE"] mean none of the four), `subtypes`, `entities` ({LABEL: [mention, ...]},
found in the text as whole words), `spans` ([[start, end, LABEL], ...]; given, they win over
`entities`). Other fields are ignored. CSV: columns `text`, `domains` and optionally `title`, `id`,
`subtypes`; several domains or sub-types in a cell separated by `;` or `|`; an empty cell: none.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kunlun_nlp.document import content_id
from kunlun_nlp.labels.samples import STATED_PARTS, LabeledSample
from kunlun_nlp.labels.spans import find_spans
from kunlun_nlp.limits import ID_RE, MAX_TEXT_CHARS, MAX_TITLE_CHARS
from kunlun_nlp.vocabulary import DOMAIN_LABELS, ENTITY_LABELS, SUBTYPE_LABELS

FORMATS = ("jsonl", "csv")
NONE_LABELS = frozenset({"OTHER", "NONE"})  # realtrain's and realdev's word for none of the four
CSV_COLUMNS = ("text", "domains", "title", "id", "subtypes")
_CELL_SEPARATOR = re.compile(r"[;|]")
_MAX_ERRORS_SHOWN = 20  # in the exception's message; `errors` has them all


class LabelImportError(ValueError):
    """A file that cannot be imported: `errors` holds every problem, "line N: reason"."""

    def __init__(self, errors: list[str], source: str = "") -> None:
        self.errors = errors
        self.source = source
        shown = "; ".join(errors[:_MAX_ERRORS_SHOWN]) + (f"; and {len(errors) - _MAX_ERRORS_SHOWN} more" if len(errors) > _MAX_ERRORS_SHOWN else "")
        super().__init__(f"{source + ': ' if source else ''}{len(errors)} problem(s), nothing imported: {shown}")


@dataclass(frozen=True)
class ParsedLabels:
    samples: list[LabeledSample]
    warnings: list[str]  # "line N: ..." for what was accepted but may be a mistake (a mention not in the text)


def format_of(name: str) -> str:
    """The format a file name says: .jsonl / .json / .ndjson are JSONL, .csv is CSV."""
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise LabelImportError([f"cannot tell the format of {name!r}: name it .jsonl or .csv"], name)


def read_labels(path: str | Path) -> ParsedLabels:
    """The samples of a labels file (format by its suffix); LabelImportError for any bad row."""
    path = Path(path)
    format = format_of(path.name)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelImportError([f"cannot read the file: {exc}"], path.name) from exc
    return parse_labels(content, format, source=path.name)


def parse_labels(content: str, format: str, *, source: str = "") -> ParsedLabels:
    if format not in FORMATS:
        raise LabelImportError([f"unknown format {format!r}: one of {', '.join(FORMATS)}"], source)
    rows = _jsonl_rows(content) if format == "jsonl" else _csv_rows(content)
    samples, errors, warnings = [], [], []
    first_line_of: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, str):  # a problem found while reading the row
            errors.append(f"line {line}: {row}")
            continue
        problems: list[str] = []
        notes: list[str] = []
        sample = _sample(row, problems, notes)
        if sample is not None and sample.id in first_line_of:
            problems.append(f"id {sample.id!r} is also on line {first_line_of[sample.id]}")
        errors += [f"line {line}: {p}" for p in problems]
        warnings += [f"line {line}: {n}" for n in notes]
        if sample is not None and not problems:
            first_line_of[sample.id] = line
            samples.append(sample)
    if not errors and not samples:
        errors.append("no labeled rows")
    if errors:
        raise LabelImportError(errors, source)
    return ParsedLabels(samples, warnings)


# -- rows ----------------------------------------------------------------------------------------


def _jsonl_rows(content: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, line in enumerate(content.lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"invalid JSON: {exc.msg} (column {exc.colno})"
            continue
        yield number, record if isinstance(record, dict) else f"a row must be a JSON object, not {type(record).__name__}"


def _csv_rows(content: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff"), newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, f"unreadable CSV header: {exc}"
        return
    unknown = [name for name in header if name not in CSV_COLUMNS]
    missing = [name for name in ("text", "domains") if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = [f"unknown column {name!r}" for name in unknown] + [f"no {name!r} column" for name in missing]
        problems += [f"column {name!r} is given twice" for name in sorted({n for n in header if header.count(n) > 1})]
        yield 1, f"{'; '.join(problems)} (the columns are text, domains and optionally title, id, subtypes)"
        return
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, f"unreadable CSV: {exc}"
            return
        if any(cell.strip() for cell in cells):
            if len(cells) != len(header):
                yield line, f"{len(cells)} cells for {len(header)} columns"
            else:
                row: dict[str, Any] = dict(zip(header, cells))
                row["domains"] = _cell_list(row["domains"])
                if "subtypes" in row:
                    row["subtypes"] = _cell_list(row["subtypes"])
                yield line, {k: v for k, v in row.items() if not (k in ("id", "title") and not v.strip())}
        line = reader.line_num + 1


def _cell_list(cell: str) -> list[str]:
    return [part.strip() for part in _CELL_SEPARATOR.split(cell) if part.strip()]


# -- one sample ----------------------------------------------------------------------------------


def _sample(row: dict[str, Any], problems: list[str], notes: list[str]) -> LabeledSample | None:
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("text is missing or empty")
        text = None
    elif len(text) > MAX_TEXT_CHARS:
        problems.append(f"text has {len(text):,} characters, more than {MAX_TEXT_CHARS:,}")
    title = row.get("title") or ""
    if not isinstance(title, str) or len(title) > MAX_TITLE_CHARS:
        problems.append(f"title must be a string of at most {MAX_TITLE_CHARS:,} characters")
        title = ""
    doc_id = row.get("id")
    if doc_id is not None:
        doc_id = str(doc_id) if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool) else None
        if doc_id is None or not ID_RE.match(doc_id):
            problems.append(f"id {row.get('id')!r} is not 1-128 letters, digits and ._:- starting with a letter or digit")
    domains = _domains(row, problems)
    subtypes = _subtypes(row, domains, problems)
    spans = _spans(row, text, problems, notes) if text is not None else None
    stated = _stated(row, problems)
    if text is None or problems:
        return None
    return LabeledSample(
        id=doc_id or content_id(text),
        title=title.strip(),
        text=text,
        domains=frozenset(domains or ()),
        subtypes=frozenset(subtypes or ()),
        spans=tuple(spans or ()),
        origin="import",
        stated=stated,
    )


def _domains(row: dict[str, Any], problems: list[str]) -> set[str] | None:
    if "domains" not in row:
        problems.append("no domains ([] or [\"OTHER\"] for none of the four)")
        return None
    values = row["domains"]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        problems.append("domains must be a list of names")
        return None
    labels = {v.strip().upper() for v in values}
    unknown = sorted(labels - set(DOMAIN_LABELS) - NONE_LABELS)
    if unknown:
        problems.append(f"unknown domain(s) {', '.join(unknown)}: one of {', '.join(DOMAIN_LABELS)} (or OTHER / NONE for none)")
    if labels & NONE_LABELS and labels - NONE_LABELS:
        problems.append(f"domains say both none ({', '.join(sorted(labels & NONE_LABELS))}) and {', '.join(sorted(labels - NONE_LABELS))}")
    return labels & set(DOMAIN_LABELS)


def _subtypes(row: dict[str, Any], domains: set[str] | None, problems: list[str]) -> set[str] | None:
    values = row.get("subtypes")
    if values is None:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        problems.append("subtypes must be a list of names")
        return None
    labels = {v.strip().upper() for v in values}
    unknown = sorted(labels - set(SUBTYPE_LABELS))
    if unknown:
        problems.append(f"unknown sub-type(s) {', '.join(unknown)}: e.g. FOOD.ADULTERATION (kunlun_nlp.vocabulary.SUBTYPES)")
    if domains is not None:
        outside = sorted(s for s in labels - set(unknown) if s.split(".")[0] not in domains)
        if outside:
            problems.append(f"sub-type(s) {', '.join(outside)} not under the row's domains")
    return labels


def _spans(row: dict[str, Any], text: str, problems: list[str], notes: list[str]) -> list[tuple[int, int, str]] | None:
    if row.get("spans") is not None:
        return _given_spans(row["spans"], text, problems)
    entities = row.get("entities")
    if entities is None:
        return None
    if not isinstance(entities, dict):
        problems.append("entities must be an object: {LABEL: [mention, ...]}")
        return None
    for label, mentions in entities.items():
        if label not in ENTITY_LABELS:
            problems.append(f"unknown entity label {label!r}: one of {', '.join(ENTITY_LABELS)}")
        if not isinstance(mentions, list) or not all(isinstance(m, str) and m.strip() for m in mentions):
            problems.append(f"entities.{label} must be a list of non-empty mentions")
    if problems:
        return None
    for label, mentions in entities.items():
        missing = [m for m in mentions if not re.search(r"(?<!\w)" + re.escape(m) + r"(?!\w)", text)]
        if missing:
            notes.append(f"{label} mention(s) not found in the text as whole words: {', '.join(map(repr, missing))}")
    return find_spans(text, entities)


def _given_spans(values: Any, text: str, problems: list[str]) -> list[tuple[int, int, str]] | None:
    if not isinstance(values, list):
        problems.append("spans must be a list of [start, end, LABEL]")
        return None
    spans = []
    for value in values:
        if (
            not isinstance(value, list) or len(value) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value[:2]) or not isinstance(value[2], str)
        ):
            problems.append(f"span {value!r} is not [start, end, LABEL]")
            continue
        start, end, label = value
        if label not in ENTITY_LABELS:
            problems.append(f"span {value!r}: unknown entity label {label!r}")
        elif not 0 <= start < end <= len(text):
            problems.append(f"span {value!r} is not inside the text (0:{len(text)})")
        elif not text[start:end].strip():
            problems.append(f"span {value!r} covers only white space")
        else:
            spans.append((start, end, label))
    spans.sort()
    for (s1, e1, _), (s2, e2, _) in zip(spans, spans[1:]):
        if s2 < e1:
            problems.append(f"spans {s1}:{e1} and {s2}:{e2} overlap")
    return spans


def _stated(row: dict[str, Any], problems: list[str]) -> frozenset[str]:
    """Which parts the row states: as its `stated` says (a file this module's export wrote), else
    the domains, and sub-types and spans where the row has them."""
    given = row.get("stated")
    if given is not None:
        if not isinstance(given, list) or not all(isinstance(g, str) for g in given) or not set(given) <= set(STATED_PARTS):
            problems.append(f"stated must list some of {', '.join(STATED_PARTS)}")
            return frozenset()
        return frozenset(given)
    parts = {"domains"}
    if row.get("subtypes") is not None:
        parts.add("subtypes")
    if row.get("spans") is not None or row.get("entities") is not None:
        parts.add("spans")
    return frozenset(parts)
