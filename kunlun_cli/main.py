"""`kunlun-nlp ingest | watch | worker | tag | search | triage | serve | evaluate | train`.

Exit codes: 0 success, 1 some inputs failed or are of no supported format (the rest went through),
2 bad usage or input, 3 the index or the queue is unreachable, or the tagging workers keep dying.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kunlun_cli import keys_commands
from kunlun_cli import labels_commands
from kunlun_cli import retag_commands
from kunlun_cli import model_commands
from kunlun_cli.options import location_options, service_of, settings_of
from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document
from kunlun_nlp.errors import QueueUnavailableError, WorkersFailingError
from kunlun_nlp.index import IndexUnavailableError
from kunlun_nlp.limits import MAX_REVIEW_NOTE_CHARS, MAX_TEXT_CHARS
from kunlun_nlp.not_tagged import NotTaggedReports
from kunlun_nlp.readers import IGNORE_FILE, ReadFailure, Unsupported, document_from_record, scan_inputs
from kunlun_nlp.search.parse import parse_search_params
from kunlun_nlp.search.request import QUERY_SYNTAX, InvalidSearchRequest, SearchRequest

if TYPE_CHECKING:
    from tqdm import tqdm

    from kunlun_nlp.service import KunlunService

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
INGEST_BATCH = 32


class UsageError(Exception):
    """Bad input on the command line or standard input; exits 2 with the message."""


def main(argv: Sequence[str] | None = None) -> int:
    # Models load from installed packages only; tokenizers must not fork-warn in worker processes.
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"kunlun-nlp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidSearchRequest as exc:
        print(f"kunlun-nlp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except IndexUnavailableError as exc:
        print(f"kunlun-nlp: index unavailable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except (QueueUnavailableError, WorkersFailingError) as exc:
        print(f"kunlun-nlp: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except BrokenPipeError:  # `kunlun-nlp search ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK


# -- ingest --------------------------------------------------------------------------------------


def run_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    service = service_of(args)
    health = service.index.health()
    if not health.reachable:
        raise IndexUnavailableError(f"{health.backend} at {health.location}: {health.detail}")
    scan = scan_inputs(args.paths)  # counted first: the progress bar has a total, a rate and an ETA
    with _Workers(args, service) as workers, tqdm(
        total=len(scan.files), desc="ingest", unit="file", disable=args.quiet, file=sys.stderr
    ) as progress:
        run = _IngestRun(service, workers, progress)
        for problem in scan.problems:
            run.note(problem)
        for path in scan.files:
            run.add(path, again=args.again)
        run.finish()
    run.print_report()
    print(
        f"ingested {run.indexed} document(s) into the {health.backend} index at {health.location}; "
        f"{len(run.failures)} failure(s); {service.index.count()} document(s) in the index"
    )
    if run.intake.skipped:
        print(f"unchanged since an earlier ingest, not read again: {run.intake.skipped} file(s) (--again reads them)")
    for line in run.not_tagged.summary_lines():  # the reports the models did not tag, by name
        print(line)
    print(
        f"counts: ingested {run.indexed}, split {len(run.splits)} (into {sum(n for _, n in run.splits)} parts), "
        f"failed {len(run.failures)}, unsupported {len(run.unsupported)}, ignored {len(scan.ignored)} "
        f"(hidden or in {IGNORE_FILE}; an ignored folder counts once)"
    )
    service.close()
    # An unsupported file is not ingested either: list its kind in .kunlunignore to pass it over.
    return EXIT_PARTIAL if run.failures or run.unsupported else EXIT_OK


class _Workers:
    """The tagging workers of a CLI run: a pool of processes (`--workers N`, default one per core),
    or the batches run in this process (`--workers 0`)."""

    def __init__(self, args: argparse.Namespace, service: KunlunService) -> None:
        from kunlun_nlp.queue.workers import WorkerPool, ingest_batch

        self.queue = service.queue
        self.pool = None
        if args.workers == 0:
            self.queue.handler = lambda documents: ingest_batch(service, documents)
        else:
            self.pool = WorkerPool(self.queue, lambda: service_of(args), workers=args.workers)

    def __enter__(self) -> _Workers:
        if self.pool is not None:
            self.pool.start()
        return self

    def __exit__(self, *_exc) -> None:
        if self.pool is not None:
            self.pool.stop()

    def turn(self) -> bool:
        """Let the workers work a moment; False once Ctrl-C or SIGTERM stopped them."""
        if self.pool is not None:
            return self.pool.poll()
        if not self.queue.run_one():
            time.sleep(0.05)
        return True


class _IngestRun:
    """Reads files into the intake queue while the workers tag and index; keeps the tallies."""

    def __init__(self, service: KunlunService, workers: _Workers, progress: tqdm) -> None:
        from kunlun_nlp.intake.files import FileIntake, FileLedger

        self.service = service
        self.workers = workers
        self.progress = progress  # a file counts once all its documents are stored or failed
        self.intake = FileIntake(
            service.queue, FileLedger(service.settings.file_ledger_path),
            on_split=lambda where, parts: self.splits.append((where, parts)), on_failure=self.note,
        )
        self.failures: list[ReadFailure] = []
        self.indexed = 0
        self.unsupported: list[Unsupported] = []  # files, and e-mail attachments, of no supported format
        self.splits: list[tuple[str, int]] = []  # (where, number of parts)
        self.not_tagged = NotTaggedReports()  # named in the summary
        self.stopped = False

    def add(self, path: Path, *, again: bool) -> None:
        if self.stopped:
            return
        skipped = self.intake.skipped
        self.intake.add(path, again=again)
        self.progress.update(self.intake.skipped - skipped)
        self.work_a_moment()

    def note(self, problem: ReadFailure) -> None:
        if isinstance(problem, Unsupported):
            self.unsupported.append(problem)
        else:
            self.failures.append(problem)
            self.progress.set_postfix(failed=len(self.failures), refresh=False)

    def finish(self) -> None:
        """Queue what is left and wait for the workers to store it all (or for Ctrl-C)."""
        self.intake.flush()
        while self.intake.open_jobs and not self.stopped:
            self.stopped = not self.workers.turn()
            self._collect()
        self._collect()
        if self.intake.open_jobs:
            waiting = sum(s.queued for s in (self.service.queue.status(j) for j in self.intake.open_jobs) if s)
            print(f"kunlun-nlp: stopped; {waiting} document(s) stay queued: run the same ingest again to go on",
                  file=sys.stderr)

    def work_a_moment(self) -> None:
        """Let the workers run a turn, then take in the jobs that finished (watch calls it while it waits)."""
        self.stopped = not self.workers.turn()
        self._collect()

    def _collect(self) -> None:
        from kunlun_nlp.not_tagged import NotTaggedReport

        for stamps, status in self.intake.settle():
            self.indexed += status.done
            self.failures.extend(ReadFailure(doc_id, f"not stored: {why}") for doc_id, why in status.failures.items())
            for report in status.not_tagged:
                self.not_tagged.note(NotTaggedReport(**report))
            self.progress.set_postfix(failed=len(self.failures), refresh=False)
            self.progress.update(len(stamps))

    def print_report(self) -> None:
        """Every input not ingested whole, with the reason, after the progress bar (standard error)."""
        for where, parts in self.splits:
            print(f"split: {where}: over {MAX_TEXT_CHARS:,} characters, into {parts} parts", file=sys.stderr)
        for item in self.unsupported:
            print(f"unsupported: {item.path}: {item.reason}", file=sys.stderr)
        for failure in self.failures:
            print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)


def run_worker(args: argparse.Namespace) -> int:
    """Tagging workers for the queue (KUNLUN_QUEUE_URL) and index the settings name, until stopped."""
    from kunlun_nlp.queue.workers import WorkerPool

    service = service_of(args)
    print(f"kunlun-nlp: tagging workers on the {service.queue.backend} queue, indexing into the "
          f"{service.settings.backend} index; Ctrl-C stops them after their batches", file=sys.stderr)
    WorkerPool(service.queue, lambda: service_of(args), workers=args.workers).run()
    return EXIT_OK


def run_watch(args: argparse.Namespace) -> int:
    """Ingest files as they arrive in a folder; what is done is remembered across restarts."""
    from kunlun_nlp.readers import walk_inputs

    folder = Path(args.folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    service = service_of(args)
    with _Workers(args, service) as workers:
        run = _IngestRun(service, workers, _NoProgress())
        seen: dict[Path, tuple[int, int]] = {}  # a file is read once its size and time hold still
        print(f"kunlun-nlp: watching {folder} every {args.interval:g} s; Ctrl-C stops", file=sys.stderr)
        reported = 0
        while not run.stopped:
            for item in walk_inputs([folder]):
                if not isinstance(item, Path):
                    continue
                stat = item.stat()
                stamp = (stat.st_size, stat.st_mtime_ns)
                if seen.get(item) == stamp or args.once:
                    run.add(item, again=False)
                seen[item] = stamp
            run.intake.flush()
            deadline = time.monotonic() + args.interval
            while time.monotonic() < deadline and not run.stopped:
                run.work_a_moment()
            if run.indexed + len(run.failures) != reported:
                reported = run.indexed + len(run.failures)
                print(f"watch: {run.indexed} document(s) stored, {len(run.failures)} failed so far", file=sys.stderr)
            if args.once and not run.intake.open_jobs:
                break
    run.print_report()
    service.close()
    return EXIT_PARTIAL if run.failures else EXIT_OK


class _NoProgress:
    def update(self, _n: int) -> None: ...

    def set_postfix(self, **_kw) -> None: ...


# -- tag -----------------------------------------------------------------------------------------


def run_tag(args: argparse.Namespace) -> int:
    from kunlun_nlp.records import tag_summary

    source: TextIO = sys.stdin if args.file in (None, "-") else _open_text(args.file)
    documents = _documents_from_jsonl(source, args.file or "<stdin>")
    service = service_of(args)
    # Novelty is judged against an index that exists; tagging never creates one.
    settings = service.settings
    index = service.index if settings.engine_url or settings.embedded_index_path.exists() else None
    for tagged in service.tag_stream(documents, index=index, today=args.as_of):
        print(json.dumps(tag_summary(tagged), ensure_ascii=False), flush=True)
    return EXIT_OK


def _open_text(path: str) -> TextIO:
    try:
        return open(path, encoding="utf-8")  # noqa: SIM115 - read to the end by the caller
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def _documents_from_jsonl(lines: TextIO, name: str) -> list[Document]:
    """Every line must be a JSON object with `text`; a bad line stops the run before any output."""
    documents = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = document_from_record(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{name}:{number}: invalid JSON: {exc.msg}") from exc
        except ValueError as exc:
            raise UsageError(f"{name}:{number}: {exc}") from exc
        if len(document.text) > MAX_TEXT_CHARS:  # the API's limit: tag answers one line per input line
            raise UsageError(
                f"{name}:{number}: text has {len(document.text):,} characters, more than {MAX_TEXT_CHARS:,}; "
                "`kunlun-nlp ingest` splits such a file into parts"
            )
        documents.append(document)
    return documents


# -- search --------------------------------------------------------------------------------------


def run_search(args: argparse.Namespace) -> int:
    request = _search_request(args, queue=False)
    service = service_of(args)
    result = service.index.search(request)
    if args.json:
        _print_json(result)
        return EXIT_OK
    print(f"{_total(result)} document(s) match; page {result.page}")
    for hit in result.hits:
        domains = ", ".join(f"{d.label} {d.score:.2f}" for d in hit.domains) or _untagged(hit) or "none"
        print(f"\n* {hit.title or hit.id}  [{domains}]  id={hit.id}")
        print(f"  {hit.snippet.replace('<mark>', '[').replace('</mark>', ']')}")
    facets = result.facets
    if facets.domains:
        print("\ndomains: " + ", ".join(f"{f.value} ({f.count})" for f in facets.domains))
    for label, values in facets.entities.items():
        if values:
            print(f"top {label}: " + ", ".join(f"{f.value} ({f.count})" for f in values[:5]))
    return EXIT_OK


def _search_request(args: argparse.Namespace, *, queue: bool) -> SearchRequest:
    """The options as the API's query parameters, parsed by the same function as the API's."""
    params: dict[str, list[str]] = {
        "q": [" ".join(args.query)] if args.query else [],
        "domain": args.domain,
        "entity": args.entity,
        "source": args.source,
        "reliability": args.reliability,
        "credibility": args.credibility,
        "language": args.language,
        # the text output prints them; --json, like the API, has them when asked (--facets)
        "facets": ["true"] if getattr(args, "facets", False) or not (queue or args.json) else [],
    }
    for name in ("published_from", "published_to", "sort", "reviewed", "page", "size", "facet_size"):
        if getattr(args, name, None) is not None:
            params[name] = [getattr(args, name)]
    try:
        return parse_search_params({name: values for name, values in params.items() if values}, queue=queue)
    except InvalidSearchRequest as exc:
        raise UsageError(str(exc)) from exc


def _total(result) -> str:
    """Counting stops at 10,000 matches: past that, say so."""
    return str(result.total) if result.total_exact else f"at least {result.total:,}"


def _untagged(hit) -> str:
    """What a hit the models did not tag shows instead of its (absent) domains."""
    return f"not tagged: {hit.language or 'language unknown'}" if hit.not_tagged else ""


def _print_json(result) -> None:
    from dataclasses import asdict

    print(json.dumps(asdict(result), default=str, ensure_ascii=False, indent=2))


# -- triage --------------------------------------------------------------------------------------


def run_triage(args: argparse.Namespace) -> int:
    if args.note is not None and not args.review:
        raise UsageError("--note goes with --review ID")
    service = service_of(args)
    if args.review:
        if not args.by or not args.by.strip():
            raise UsageError("--review needs --by NAME (who reviewed it)")
        try:
            outcome = service.review(args.review, args.by.strip(), note=args.note)
        except ValueError as exc:  # a note over the limit
            raise UsageError(str(exc)) from exc
        if outcome is None:
            raise UsageError(f"no document with id {args.review!r}")
        review = outcome.review
        if not outcome.newly_reviewed and review.reviewed_by != args.by.strip():
            print(f"kunlun-nlp: already reviewed by {review.reviewed_by} at {review.reviewed_at.isoformat()}", file=sys.stderr)
            return EXIT_PARTIAL
        print(f"reviewed {args.review} by {review.reviewed_by} at {review.reviewed_at.isoformat()}")
        if review.note:
            print(f"note: {review.note}")
        return EXIT_OK
    result = service.index.search(_search_request(args, queue=True))
    if args.json:
        _print_json(result)
        return EXIT_OK
    print(f"{_total(result)} report(s) waiting for review")
    for hit in result.hits:
        domains = ", ".join(d.label for d in hit.domains) or _untagged(hit) or "none"
        print(f"\n[{hit.priority if hit.priority is not None else '-':>3}] {hit.title or hit.id}  ({domains}; grade {hit.grade or '-'})  id={hit.id}")
        if hit.priority_reasons:
            print("      " + "; ".join(hit.priority_reasons))
    return EXIT_OK


# -- serve ---------------------------------------------------------------------------------------


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    from dataclasses import replace

    from kunlun_nlp.service import KunlunService

    settings = settings_of(args)
    if args.host not in ("0.0.0.0", "::", *settings.allowed_hosts):  # the name it is served under is allowed
        settings = replace(settings, allowed_hosts=(*settings.allowed_hosts, args.host))
    service = KunlunService(settings)
    if not service.keys.any_keys():  # a fresh install: every route but /health answers 401 until then
        print("kunlun-nlp: no API keys yet; create the first admin key with\n  kunlun-nlp keys create --role admin --name NAME"
              + (f" --data-dir {args.data_dir}" if args.data_dir else ""), file=sys.stderr)
    app = create_app(service)
    shown_host = "localhost" if args.host in ("0.0.0.0", "::", "127.0.0.1") else args.host
    print(f"kunlun-nlp: the analysts' page is at http://{shown_host}:{args.port}/ (sign in with an API key), the API's docs at /docs",
          file=sys.stderr)
    workers = _start_worker_process(args) if args.workers != 0 else None
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        if workers is not None:
            workers.send_signal(signal.SIGINT)  # finish the running batches; the rest stays queued
            workers.wait(timeout=120)
    return EXIT_OK


def _start_worker_process(args: argparse.Namespace):
    """`kunlun-nlp worker` beside the API, so documents it accepts get tagged with no other command."""
    import subprocess

    from kunlun_nlp.queue.lifetime import die_with_parent

    command = [sys.executable, "-m", "kunlun_cli", "worker"]
    for option in ("data_dir", "engine_url", "workers"):
        if getattr(args, option) is not None:
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    return subprocess.Popen(command, preexec_fn=die_with_parent)  # SIGTERM if the API dies: batches are sent again


# -- evaluate and train ---------------------------------------------------------------------------


def run_evaluate(args: argparse.Namespace) -> int:
    from kunlun_nlp.pipeline import Pipeline
    from training.datasets import load_corpus
    from training.evaluate import evaluate, format_report, write_report
    from training.labeled import labeled_from_example, read_labeled

    if args.triage:
        from training.evaluate_triage import evaluate_triage, format_triage_report

        triage_report = evaluate_triage(Pipeline.load(_model(args)))
        print(format_triage_report(triage_report))
        if args.report:
            from pathlib import Path

            Path(args.report).mkdir(parents=True, exist_ok=True)
            (Path(args.report) / "triage.json").write_text(json.dumps(triage_report, indent=2) + "\n", encoding="utf-8")
        return EXIT_OK
    if args.corpus_test:
        held_out = load_corpus(split="test")
        examples = [labeled_from_example(e) for e in held_out]
        name = f"corpus test split ({len(examples)} documents)"
    elif args.evaluation_set:
        from training.evaluation_set import evaluation_set, fingerprint

        held_back = evaluation_set()
        examples = [labeled_from_example(e) for e in held_back]
        name = f"evaluation set {fingerprint(held_back)} ({len(examples)} documents)"
    elif args.file:
        try:
            examples = read_labeled(args.file)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{args.file}: {exc}") from exc
        name = args.file
    else:
        raise UsageError("give a labeled JSONL file, --corpus-test or --evaluation-set")
    try:
        model = _model(args)
    except LookupError as exc:
        raise UsageError(str(exc)) from exc
    report = evaluate(examples, pipeline=Pipeline.load(model), name=name)
    print(format_report(report))
    if args.report:
        for path in write_report(report, args.report):
            print(f"wrote {path}")
    return EXIT_OK


def _model(args: argparse.Namespace):
    from kunlun_nlp.model_registry import active_model  # --model pins one; else the active version

    settings = Settings.from_env(data_dir=args.data_dir, model=args.model)
    return active_model(settings)


def run_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from training.train import FULL, QUICK, train_all

    try:
        target = train_all(QUICK if args.quick else FULL, out_dir=Path(args.out), version=args.version)
    except FileExistsError as exc:
        raise UsageError(str(exc)) from exc
    print(f"model written to {target}")
    return EXIT_OK


# -- arguments -----------------------------------------------------------------------------------


def _models_dir():
    from kunlun_nlp.models import shipped_models_dir

    return shipped_models_dir()


def _workers(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"not a number of workers: {value!r}")
    return int(value)


def _parser() -> argparse.ArgumentParser:
    common = location_options()

    parser = argparse.ArgumentParser(prog="kunlun-nlp", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser(
        "ingest",
        parents=[common],
        help="tag and index files and folders",
        description=(
            "Tag and index files and folders. In a folder, hidden files and folders and whatever its "
            f"{IGNORE_FILE} lists (gitignore patterns) are ignored and counted; other files of no "
            "supported format are listed. A text over "
            f"{MAX_TEXT_CHARS:,} characters is split into parts at paragraph breaks "
            "(ids <id>-part1..N), or refused with the reason when it is not text."
        ),
    )
    ingest.add_argument(
        "paths", nargs="+", metavar="PATH", help=".txt .md .html .jsonl .pdf .docx .eml files or folders"
    )
    ingest.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    ingest.add_argument("--again", action="store_true", help="read files again even when an earlier ingest stored them unchanged")
    ingest.add_argument("--workers", type=_workers, default=None, metavar="N",
                        help="tagging worker processes (default: one per core; 0: tag in this process)")
    ingest.set_defaults(run=run_ingest)

    worker = commands.add_parser("worker", parents=[common], help="run tagging workers for the queue (KUNLUN_QUEUE_URL)")
    worker.add_argument("--workers", type=_workers, default=None, metavar="N", help="processes (default: one per core)")
    worker.set_defaults(run=run_worker)

    watch = commands.add_parser("watch", parents=[common], help="ingest files as they arrive in a folder")
    watch.add_argument("folder", metavar="DIR")
    watch.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between looks (default 2)")
    watch.add_argument("--workers", type=_workers, default=None, metavar="N", help="processes (default: one per core; 0: this one)")
    watch.add_argument("--once", action="store_true", help="ingest what is there now, wait for it, and stop")
    watch.set_defaults(run=run_watch)

    tag = commands.add_parser("tag", parents=[common], help="tag JSONL documents (needs `text`) and print JSON lines")
    tag.add_argument("file", nargs="?", help="JSONL file; standard input when absent or -")
    tag.add_argument("--as-of", type=date.fromisoformat, metavar="YYYY-MM-DD", help="judge recency as of this day (default: today)")
    tag.set_defaults(run=run_tag)

    # search and triage take the API's filters; values are checked by the parser the API uses
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument(
        "query", nargs="*", help=QUERY_SYNTAX.replace("%", "%%") + " With an exclusion, put -- before the query: search -- honey -fake"
    )
    filters.add_argument("--domain", action="append", default=[], help="repeatable: any of these domains")
    filters.add_argument("--entity", action="append", default=[], metavar="LABEL:VALUE", help="repeatable: all must match")
    filters.add_argument("--source", action="append", default=[], help="repeatable: any of these sources")
    filters.add_argument("--published-from", metavar="YYYY-MM-DD")
    filters.add_argument("--published-to", metavar="YYYY-MM-DD")
    filters.add_argument("--reliability", action="append", default=[], metavar="A-F", help="repeatable: source grades")
    filters.add_argument("--credibility", action="append", default=[], metavar="1-6", help="repeatable: information grades")
    filters.add_argument("--language", action="append", default=[], metavar="CODE", help="repeatable: any of these languages (en, zh)")
    filters.add_argument("--page", metavar="N", help="page number, from 1")
    filters.add_argument("--facet-size", metavar="N", help="values per facet (default 10)")
    filters.add_argument("--json", action="store_true", help="print the full result as JSON")
    filters.add_argument("--facets", action="store_true", help="with --json: count domains, top entities and languages")

    search = commands.add_parser("search", parents=[common, filters], help="search the index")
    search.add_argument("--sort", metavar="{relevance,date,priority}", help="default relevance")
    search.add_argument("--size", metavar="N", help="hits per page (default 10)")
    reviewed = search.add_mutually_exclusive_group()
    reviewed.add_argument("--reviewed", action="store_const", const="true", help="only reviewed reports")
    reviewed.add_argument("--unreviewed", dest="reviewed", action="store_const", const="false", help="only unreviewed ones")
    search.set_defaults(run=run_search)

    triage = commands.add_parser(
        "triage", parents=[common, filters], help="the queue of unreviewed reports, by priority; the search filters apply"
    )
    triage.add_argument("--size", metavar="N", default="20", help="reports per page (default 20)")
    triage.add_argument("--review", metavar="ID", help="mark this report reviewed (takes it off the queue)")
    triage.add_argument("--by", metavar="NAME", help="who reviewed it (with --review)")
    triage.add_argument("--note", metavar="TEXT", help=f"a note kept with the review (with --review; at most {MAX_REVIEW_NOTE_CHARS:,} characters)")
    triage.set_defaults(run=run_triage)

    serve = commands.add_parser("serve", parents=[common], help="serve the analysts' page (/) and the HTTP API (docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=_workers, default=None, metavar="N",
                       help="tagging worker processes started beside it (default: one per core; 0: none, they run elsewhere)")
    serve.set_defaults(run=run_serve)

    evaluate = commands.add_parser(
        "evaluate", parents=[common], help="domain and entity metrics of a model and the zero-shot baseline"
    )
    evaluate.add_argument("file", nargs="?", help="labeled JSONL: corpus format, or realdev's (OTHER meaning none)")
    evaluate.add_argument("--corpus-test", action="store_true", help="evaluate on the corpus's held-out test split")
    evaluate.add_argument(
        "--evaluation-set", action="store_true", help="evaluate on the fixed evaluation set that decides promotions (no training sees it)"
    )
    evaluate.add_argument("--triage", action="store_true", help="case cards and priority pairs in corpora/cases")
    evaluate.add_argument("--model", help="model version or 'zero-shot' (env KUNLUN_MODEL; default: the active version)")
    evaluate.add_argument("--report", metavar="DIR", help="also write metrics.json and report.png there")
    evaluate.set_defaults(run=run_evaluate)

    train = commands.add_parser("train", help="rebuild the models from the corpus and ../shared/data")
    train.add_argument("--out", default=str(_models_dir()), help="where the version folder goes (default: models/)")
    train.add_argument("--version", help="version name (default v<YYYYMMDD>-<HHMM>)")
    train.add_argument("--quick", action="store_true", help="tiny models on a few dozen documents, for tests")
    train.set_defaults(run=run_train)
    keys_commands.add_commands(commands)
    labels_commands.add_commands(commands)
    retag_commands.add_commands(commands)
    model_commands.add_commands(commands)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
