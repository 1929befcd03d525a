"""`kunlun-nlp retag [--model VERSION]`: re-tag every indexed document with a model version (the
active one by default), as a promotion or a rollback does, with a progress bar. Search answers
throughout: the engine swaps a new index in behind its alias, the embedded index commits one
transaction."""

from __future__ import annotations

import argparse
import sys

from kunlun_cli.options import location_options, service_of

EXIT_OK, EXIT_USAGE = 0, 2


def add_commands(subparsers) -> None:
    retag = subparsers.add_parser(
        "retag",
        parents=[location_options()],
        help="re-tag every indexed document with a model version (search answers throughout)",
        description=(
            "Re-tag every indexed document with a model version (the active one by default), as a promotion or a "
            "rollback does. Search answers throughout: the engine fills a new index and swaps it in behind its alias, "
            "the embedded index commits one transaction. Reviews and human corrections stay."
        ),
    )
    retag.add_argument("--model", metavar="VERSION", help="model version or 'zero-shot' (default: the active version)")
    retag.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    retag.set_defaults(run=run_retag)


def run_retag(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kunlun_nlp.retag import retag_index

    service = service_of(args)
    try:
        with tqdm(desc="re-tag", unit="doc", disable=args.quiet, file=sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                summary = retag_index(service, args.model, progress=progress)
            except LookupError as exc:  # no such version
                print(f"kunlun-nlp: error: {exc}", file=sys.stderr)
                return EXIT_USAGE
    finally:
        service.close()
    print(summary.describe())
    for doc_id, reason in summary.report.kept.items():
        print(f"kept its old tags: {doc_id}: {reason}")
    return EXIT_OK
