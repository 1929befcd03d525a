"""Re-tagging rate: documents per second for `retag_index` on each backend, and how search fares
meanwhile.

    .venv/bin/python benchmarks/retag.py [--docs N] [--model VERSION] [--engine-url URL]

Tags N written reports of the corpus (corpora/labeled) once with the model, stores them in a fresh
embedded index (and a fresh engine index when an engine URL is given, or KUNLUN_ENGINE_URL), then
re-tags each index with the model and prints documents, seconds and rate, with the searches a
thread ran meanwhile (count, failures, slowest). The rate is mostly tagging: compare it with
benchmarks/tagging.py's pipeline rate.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kunlun_nlp.config import Settings  # noqa: E402
from kunlun_nlp.document import Document  # noqa: E402
from kunlun_nlp.index.base import DocumentIndex  # noqa: E402
from kunlun_nlp.retag import retag_index  # noqa: E402
from kunlun_nlp.search.parse import parse_search_params  # noqa: E402
from kunlun_nlp.service import KunlunService  # noqa: E402


def corpus(count: int) -> list[Document]:
    documents = []
    for path in sorted((ROOT / "corpora" / "labeled").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            documents.append(Document.create(record["text"], title=record.get("title") or "", id=record.get("id")))
            if len(documents) == count:
                return documents
    return documents


def measure(name: str, index: DocumentIndex, settings: Settings, version: str | None, tagged) -> None:
    index.put(tagged)
    done, searches, failures, slowest = threading.Event(), [0], [], [0.0]

    def searcher() -> None:
        request = parse_search_params({"q": "seized", "facets": "true"})
        while not done.is_set():
            started = time.perf_counter()
            try:
                index.search(request)
            except Exception as exc:  # noqa: BLE001 - counted, not raised
                failures.append(repr(exc))
            slowest[0] = max(slowest[0], time.perf_counter() - started)
            searches[0] += 1
            time.sleep(0.05)

    thread = threading.Thread(target=searcher)
    thread.start()
    service = KunlunService(settings, index=index)
    try:
        summary = retag_index(service, version)
    finally:
        done.set()
        thread.join()
        service.close()
    print(
        f"{name:8} {summary.documents:5d} docs  {summary.seconds:7.1f} s  {summary.per_second:6.2f} docs/s  "
        f"caught up {summary.report.caught_up}  searches meanwhile {searches[0]} (failed {len(failures)}, slowest {slowest[0] * 1000:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--model", help="model version (default: the active one)")
    parser.add_argument("--engine-url", default=os.environ.get("KUNLUN_ENGINE_URL"))
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        service = KunlunService(settings)
        if args.model:
            service.switch_model(args.model)
        started = time.perf_counter()
        tagged = list(service.tag_stream(corpus(args.docs)))
        seconds = time.perf_counter() - started
        print(f"model {service.model_version}; first tagging: {len(tagged)} docs in {seconds:.1f} s ({len(tagged) / seconds:.2f} docs/s)")
        from kunlun_nlp.index.embedded import EmbeddedIndex

        embedded = EmbeddedIndex(Path(folder) / "index.sqlite3")
        try:
            measure("embedded", embedded, settings, args.model, tagged)
        finally:
            embedded.close()
        if args.engine_url:
            from kunlun_nlp.index.engine import SearchEngineIndex

            engine = SearchEngineIndex(args.engine_url, index_name=f"kunlun-bench-retag-{uuid.uuid4().hex[:8]}")
            try:
                measure("engine", engine, settings, args.model, tagged)
            finally:
                engine.drop()
                engine.close()
        service.close()


if __name__ == "__main__":
    main()
