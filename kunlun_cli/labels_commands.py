"""`kunlun-nlp correct | labels import | labels export | label-next`: human labels, from the
command line. The CLI acts locally on the data folder (and the index it names), so it needs no
key; what it records as who did it is --by, else the operating-system user."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kunlun_cli.options import by_of, by_option, location_options, service_of


EXIT_OK, EXIT_USAGE = 0, 2


def add_commands(subparsers) -> None:
    common, who = location_options(), by_option()

    correct = subparsers.add_parser(
        "correct", parents=[common, who], help="correct an indexed document's domains, sub-types and entities",
        description="Correct a document's tags. The correction is stored with who, when and the model version it "
        "corrects (<data>/labels.sqlite3), then applied to the index: searchable at once, and applied again on every "
        "re-tag. Offsets are characters of the stored text (kunlun-nlp search --json shows the entities).",
    )
    correct.add_argument("id", metavar="ID")
    domains = correct.add_mutually_exclusive_group()
    domains.add_argument("--domains", metavar="A,B", help="the document's domains, e.g. FOOD,MEDICINE")
    domains.add_argument("--none", action="store_true", help="none of the four domains")
    correct.add_argument("--subtypes", metavar="A.X,B.Y", help="its sub-types, e.g. FOOD.ADULTERATION ('' for none)")
    correct.add_argument("--add", nargs="+", action="extend", default=[], metavar="START:END:LABEL", help="add entities")
    correct.add_argument("--remove", nargs="+", action="extend", default=[], metavar="START:END", help="remove entities")
    correct.add_argument("--relabel", nargs="+", action="extend", default=[], metavar="START:END:LABEL", help="relabel entities")
    correct.add_argument("--json", action="store_true", help="print the corrected document as JSON")
    correct.set_defaults(run=run_correct)

    labels = subparsers.add_parser("labels", help="labeled samples in and out: import FILE, export")
    commands = labels.add_subparsers(dest="labels_command", required=True)
    imported = commands.add_parser(
        "import", parents=[common, who], help="import labeled samples (.jsonl corpus format, or .csv text,domains)",
        description="Import labeled samples: JSONL in the corpus format (or realtrain's, OTHER meaning none), or CSV "
        "with the columns text,domains (and optionally title,id,subtypes; ';' or '|' between several). A file is "
        "imported whole or not at all: any bad row, and every problem is listed with its line (exit 2).",
    )
    imported.add_argument("file", metavar="FILE")
    imported.set_defaults(run=run_import)
    exported = commands.add_parser("export", parents=[common], help="every label as JSONL in the corpus format")
    exported.add_argument("--out", metavar="FILE", help="write there (default: standard output)")
    exported.add_argument("--origin", choices=("correction", "import"), help="only corrections, or only imported samples")
    exported.set_defaults(run=run_export)

    following = subparsers.add_parser(
        "label-next", parents=[common], help="the indexed documents most worth labeling",
        description="The documents the model is least sure of (domain scores nearest its thresholds), spread over "
        "the domains, never one already corrected.",
    )
    following.add_argument("--size", type=int, default=20, metavar="N", help="how many (default 20)")
    following.add_argument("--json", action="store_true", help="print JSON lines")
    following.set_defaults(run=run_label_next)


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _spans(values: list[str], *, labeled: bool, option: str) -> list[dict]:
    spans = []
    for value in values:
        parts = value.split(":")
        try:
            if len(parts) != (3 if labeled else 2):
                raise ValueError
            span = {"start": int(parts[0]), "end": int(parts[1])}
        except ValueError:
            raise _usage(f"{option} {value!r}: expected {'START:END:LABEL' if labeled else 'START:END'}, e.g. 12:30{':ORG' if labeled else ''}")
        if labeled:
            span["label"] = parts[2]
        spans.append(span)
    return spans


def _usage(message: str) -> Exception:
    from kunlun_cli.main import UsageError

    return UsageError(message)


def run_correct(args: argparse.Namespace) -> int:
    domains = [] if args.none else _names(args.domains)
    fields = {
        "domains": domains,
        "subtypes": _names(args.subtypes),
        "add": _spans(args.add, labeled=True, option="--add"),
        "remove": _spans(args.remove, labeled=False, option="--remove"),
        "relabel": _spans(args.relabel, labeled=True, option="--relabel"),
    }
    service = service_of(args)
    try:
        corrected = service.correct(args.id, by=by_of(args), **fields)
    except ValueError as exc:
        raise _usage(str(exc)) from exc
    finally:
        service.close()
    if corrected is None:
        raise _usage(f"no document with id {args.id!r} in the index")
    if args.json:
        from kunlun_nlp.records import tagged_to_record

        record = tagged_to_record(corrected)
        record.pop("embedding")
        print(json.dumps(record, ensure_ascii=False, indent=2))
        return EXIT_OK
    label = corrected.correction or {}
    print(f"corrected {corrected.id} (correction {label.get('count')} by {label.get('by')}, over model {label.get('model') or '-'})")
    print(f"  domains:  {', '.join(d.label for d in corrected.domains) or 'none'}")
    print(f"  subtypes: {', '.join(s.label for s in corrected.subtypes) or 'none'}")
    for op in label.get("entities") or []:
        print(f"  {op['op']:<8} {op['start']}:{op['end']} {op.get('label') or '':<9} {op['text']!r}")
    return EXIT_OK


def run_import(args: argparse.Namespace) -> int:
    from kunlun_nlp.labels import LabelImportError

    service = service_of(args)
    try:
        report = service.import_labels(Path(args.file), by=by_of(args))
    except LabelImportError as exc:
        print(f"kunlun-nlp: {args.file}: {len(exc.errors)} problem(s), nothing imported:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        service.close()
    domains = ", ".join(f"{label} {n}" for label, n in report.domains.items())
    print(f"imported {report.imported} labeled sample(s) from {report.file} by {report.by}: {domains}; "
          f"{report.with_spans} with entities")
    for warning in report.warnings:
        print(f"  note: {warning}", file=sys.stderr)
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    service = service_of(args)
    try:
        lines = list(service.export_labels(args.origin))
    finally:
        service.close()
    if args.out:
        Path(args.out).write_text("".join(lines), encoding="utf-8")
        print(f"wrote {len(lines)} labeled sample(s) to {args.out}", file=sys.stderr)
    else:
        sys.stdout.writelines(lines)
    return EXIT_OK


def run_label_next(args: argparse.Namespace) -> int:
    if args.size < 1:
        raise _usage("--size must be at least 1")
    service = service_of(args)
    try:
        candidates = service.label_next(args.size)
    finally:
        service.close()
    if args.json:
        from dataclasses import asdict

        for candidate in candidates:
            print(json.dumps(asdict(candidate), ensure_ascii=False))
        return EXIT_OK
    print(f"{len(candidates)} document(s) worth labeling next (score nearest its threshold):")
    for c in candidates:
        split = "  windows disagree" if c.windows_disagree else ""
        print(f"  {c.domain:<22} {c.score:.3f} vs {c.threshold:.3f}  {c.id}  {c.title[:60]}{split}")
    return EXIT_OK
