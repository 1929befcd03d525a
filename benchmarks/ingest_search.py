"""Ingest and search figures on both backends.

    .venv/bin/python benchmarks/ingest_search.py [--engine-url URL] [--docs N] [--queries N]

Prints, measured in one run on the same documents:
- tagging alone (the pipeline, the baseline) and tag+index per backend, in documents per second,
  with the ratio tag+index / tagging so the index's cost shows as a share;
- search latency p50/p95 per backend for free-text, filtered and similar-document queries.
Documents: realtrain texts from ../shared/data when present, else the sample corpus.
The engine is measured when --engine-url or KUNLUN_ENGINE_URL is set (scripts/search-engine url).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kunlun_nlp.index.base import DocumentIndex  # noqa: E402
from kunlun_nlp.index.embedded import EmbeddedIndex  # noqa: E402
from kunlun_nlp.config import Settings  # noqa: E402
from kunlun_nlp.models import find_model  # noqa: E402
from kunlun_nlp.pipeline import Pipeline  # noqa: E402
from kunlun_nlp.readers import Document, read_file  # noqa: E402
from kunlun_nlp.search.request import EntityFilter, SearchRequest  # noqa: E402

REALTRAIN = ROOT.parent / "shared" / "data" / "realtrain" / "realtrain.jsonl"
SAMPLE = ROOT / "corpora" / "sample" / "reports.jsonl"
WORDS = ["counterfeit", "seized", "food safety", "pangolin", "illegal dumping", "trademark", "vaccine", "police arrested", '"hazardous waste"', "oil"]


def load_documents(limit: int) -> list[Document]:
    source = REALTRAIN if REALTRAIN.exists() else SAMPLE
    documents = [d for d in read_file(source) if isinstance(d, Document)]
    return documents[:limit]


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def search_latencies(index: DocumentIndex, tagged, queries: int, rng: random.Random) -> dict[str, list[float]]:
    orgs = [e.normalized for t in tagged for e in t.entities if e.label == "ORG"] or ["Police"]
    kinds = {
        "text": lambda: SearchRequest(text=rng.choice(WORDS)),
        "text+filters": lambda: SearchRequest(text=rng.choice(WORDS), domains=("FOOD", "MEDICINE"), sort="date"),
        "entity": lambda: SearchRequest(entities=(EntityFilter("ORG", rng.choice(orgs)),)),
    }
    out: dict[str, list[float]] = {}
    for name, make in kinds.items():
        index.search(make())  # warm
        out[name] = [timed(lambda: index.search(make()))[0] * 1000 for _ in range(queries)]
    ids = [t.id for t in tagged]
    out["similar"] = [timed(lambda: index.similar(rng.choice(ids), size=10))[0] * 1000 for _ in range(queries)]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine-url", default=os.environ.get("KUNLUN_ENGINE_URL"))
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(7)

    documents = load_documents(args.docs)
    settings = Settings.from_env()
    pipeline = Pipeline.load(find_model(settings.model, settings.model_dirs))  # KUNLUN_MODEL, newest by default
    pipeline.tag(documents[:4])  # warm-up: first calls pay one-off allocation costs
    tag_seconds, tagged = timed(lambda: pipeline.tag(documents))
    tag_rate = len(documents) / tag_seconds
    print(f"documents: {len(documents)} from {REALTRAIN.name if REALTRAIN.exists() else SAMPLE.name}; {os.cpu_count()} CPU(s)")
    print(f"{'tagging alone (baseline)':<34}{tag_rate:8.1f} docs/s")

    backends: list[tuple[str, DocumentIndex]] = []
    scratch = tempfile.TemporaryDirectory()
    backends.append(("embedded (SQLite FTS5)", EmbeddedIndex(Path(scratch.name) / "bench.sqlite3")))
    if args.engine_url:
        from kunlun_nlp.index.engine import SearchEngineIndex

        backends.append(("engine (Elasticsearch)", SearchEngineIndex(args.engine_url, index_name=f"kunlun-bench-{uuid.uuid4().hex[:8]}")))
    else:
        print("engine: not measured (no --engine-url / KUNLUN_ENGINE_URL)")

    for name, index in backends:
        index_seconds, _ = timed(lambda: index.put(tagged))
        rate = len(documents) / (tag_seconds + index_seconds)
        print(
            f"{'tag+index, ' + name:<34}{rate:8.1f} docs/s   ratio to tagging {rate / tag_rate:.3f}"
            f"   (indexing alone {len(documents) / index_seconds:,.0f} docs/s)"
        )
        latencies = search_latencies(index, tagged, args.queries, rng)
        for kind, values in latencies.items():
            print(f"    search {kind:<14} p50 {statistics.median(values):7.2f} ms   p95 {percentile(values, 0.95):7.2f} ms")
        if hasattr(index, "drop"):
            index.drop()
        index.close()
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
