"""Search at scale on both backends: 100,000 documents by default.

    .venv/bin/python benchmarks/scale.py [--docs N] [--queries N] [--engine-url URL] [--workdir DIR] [--rebuild]

The documents are ~50 real reports tagged once by the service's pipeline (realdev; cached, see
tagged_sample) and varied to N (kunlun_nlp.testing.synthetic.scaled_corpus): no re-tagging.
Indexes are kept for the next run (the embedded file in --workdir, the engine index
`kunlun-scale-<N>`) unless --rebuild.

Prints, per backend: build time, index size, the memory of the API server (a uvicorn process of
its own) and of Elasticsearch, p50/p95 of each kind of query through the API over HTTP and, on the
engine, of the same requests sent straight to it with the plain client; novelty checked per document and per batch;
the load average. The embedded index's vector graph is timed cold (built from the stored
embeddings, and loaded from the file beside the index).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kunlun_nlp.config import Settings  # noqa: E402
from kunlun_nlp.document import TaggedDocument  # noqa: E402
from kunlun_nlp.index.base import DocumentIndex  # noqa: E402
from kunlun_nlp.normalize import entity_key  # noqa: E402
from kunlun_nlp.readers import Document, read_file  # noqa: E402
from kunlun_nlp.records import tagged_from_record, tagged_to_record  # noqa: E402
from kunlun_nlp.search.parse import parse_search_params  # noqa: E402
from kunlun_nlp.testing.synthetic import scaled_corpus  # noqa: E402

REALDEV = ROOT.parent / "shared" / "data" / "realdev" / "realdev.jsonl"
SAMPLE = ROOT / "corpora" / "sample" / "reports.jsonl"
CACHE = Path.home() / ".cache" / "kunlun-nlp" / "bench-tagged-sample.jsonl"


def tagged_sample(count: int = 50) -> list[TaggedDocument]:
    """`count` real reports tagged by the service's pipeline, kept in CACHE for the next run
    (delete it after a model change)."""
    if CACHE.exists():
        cached = [tagged_from_record(json.loads(line)) for line in CACHE.read_text().splitlines()]
        if len(cached) >= count:
            return cached[:count]
    from kunlun_nlp.service import KunlunService

    source = REALDEV if REALDEV.exists() else SAMPLE
    documents = [d for d in read_file(source) if isinstance(d, Document)][:count]
    service = KunlunService(Settings.from_env())
    try:
        tagged = service.tag(documents)
    finally:
        service.close()
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text("".join(json.dumps(tagged_to_record(t), ensure_ascii=False) + "\n" for t in tagged))
    return tagged


WORDS = ["counterfeit", "seized", "food safety", "police", "illegal", "trademark", "vaccine", "arrested", '"hazardous waste"', "oil"]
BATCH = 2_000  # documents per put while building
NOVELTY_BATCH = 64  # a tagging batch


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(resident, peak resident) MB of a process on this machine."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields.get("VmHWM", fields["VmRSS"]).split()[0]) / 1024


def build(index: DocumentIndex, documents: list[TaggedDocument], rebuild: bool) -> float | None:
    """Seconds to put `documents` in batches; None when the index already holds them."""
    if not rebuild and index.count() == len(documents):
        return None
    start = time.perf_counter()
    for first in range(0, len(documents), BATCH):
        report = index.put(documents[first : first + BATCH])
        assert not report.failed, list(report.failed.items())[:3]
        print(f"\r  indexed {first + BATCH:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return time.perf_counter() - start


def api_queries(documents: list[TaggedDocument], rng: random.Random) -> dict[str, Callable[[], tuple[str, dict[str, Any]]]]:
    """Each kind of query as a (path, params) maker."""
    orgs = sorted({e.normalized for t in documents[:2_000] for e in t.entities if e.label == "ORG"})
    ids = [t.id for t in documents]
    return {
        "text": lambda: ("/search", {"q": rng.choice(WORDS)}),
        "filtered+faceted": lambda: ("/search", {"q": rng.choice(WORDS), "domain": ["FOOD", "MEDICINE"], "sort": "date", "facets": "true"}),
        "facets, everything": lambda: ("/search", {"facets": "true"}),
        "entity": lambda: ("/search", {"entity": f"ORG:{rng.choice(orgs)}"}),
        "triage": lambda: ("/triage", {"page": str(rng.randint(1, 3))}),
        "similar": lambda: (f"/documents/{rng.choice(ids)}/similar", {}),
        "semantic": lambda: ("/search/semantic", {"q": rng.choice(WORDS)}),
    }


def straight_request(index: Any, path: str, params: dict[str, Any], embed: Callable[[str], list[float]]) -> Callable[[], Any]:
    """The engine requests the library sends for an API call, sent with the plain client (bodies
    built beforehand); None for a call that is not one search."""
    from kunlun_nlp.index.engine_query import build_knn, build_search_body, display_names_body

    client, alias = index.client, index.alias
    if path in ("/search", "/triage"):
        request = parse_search_params({k: v if isinstance(v, list) else [v] for k, v in params.items()}, queue=path == "/triage")
        body = build_search_body(request)
        if not request.facets:
            return lambda: client.search(index=alias, **body)
        answer = client.search(index=alias, **body)  # the names request follows the counts' answer
        from kunlun_nlp.index.engine_query import facet_counts

        _, keys, _ = facet_counts(answer["aggregations"])
        names = display_names_body({label: [k for k, _ in pairs] for label, pairs in keys.items() if pairs})
        return lambda: (client.search(index=alias, **body), client.search(index=alias, **names))
    if path.endswith("/similar"):
        doc_id = path.split("/")[2]
        vector = index.embedding_of(doc_id)
        knn = build_knn(vector, size=10, exclude_id=doc_id)
        from kunlun_nlp.index.engine_query import HIT_FIELDS

        return lambda: (
            client.get(index=alias, id=doc_id, source_includes=["embedding"]),
            client.search(index=alias, knn=knn, size=10, source_includes=HIT_FIELDS),
        )
    vector = embed(params["q"])
    from kunlun_nlp.index.engine_query import HIT_FIELDS

    knn = build_knn(vector, size=10, exclude_id=None)
    return lambda: client.search(index=alias, knn=knn, size=10, source_includes=HIT_FIELDS)


@contextmanager
def api_server(env: dict[str, str]) -> Iterator[tuple[Any, int]]:
    """The API in a uvicorn process of its own (so that its memory is its own), with `env`; the
    client sends a reader key made for the run in its data folder (revoked after)."""
    import secrets

    import httpx

    from kunlun_nlp.keys import KeyStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = {k: v for k, v in os.environ.items() if k not in ("KUNLUN_ENGINE_URL", "KUNLUN_INDEX_NAME", "KUNLUN_DATA_DIR")}
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env={**settings, **env})
    keys = KeyStore(Settings(data_dir=ROOT / env.get("KUNLUN_DATA_DIR", "kunlun-data")).keys_path)
    name = f"scale-benchmark-{secrets.token_hex(3)}"
    headers = {"Authorization": f"Bearer {keys.create(name, 'reader')}"}
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, headers=headers)
    try:
        for _ in range(600):
            try:
                if client.get("/health").status_code < 500:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield client, process.pid
    finally:
        client.close()
        process.terminate()
        process.wait(60)
        keys.revoke(name)
        keys.close()


def measure(name: str, index: Any, env: dict[str, str], documents: list[TaggedDocument], queries: int, rng: random.Random) -> None:
    """p50/p95 of each kind of query through the API; on the engine, of the same requests straight."""
    from kunlun_nlp.pipeline import Pipeline
    from kunlun_nlp.models import find_model

    settings = Settings.from_env()
    engine = getattr(index, "client", None) is not None
    embed = Pipeline.load(find_model(settings.model, settings.model_dirs)).embed_query if engine else None
    print(f"\n{name}: {index.count():,} documents")
    print(f"  {'query':<20}{'API p50':>9}{'p95 ms':>9}" + (f"{'straight p50':>14}{'p95 ms':>9}{'ratio p95':>11}" if engine else ""))
    with api_server(env) as (client, pid):
        for kind, make in api_queries(documents, rng).items():
            api_ms, straight_ms = [], []
            for n in range(queries + 5):
                path, params = make()
                start = time.perf_counter()
                response = client.get(path, params=params)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, (path, params, response.text[:300])
                straight = straight_request(index, path, params, embed) if engine else None
                if straight is not None:
                    straight()  # the same request warmed as the API's was
                    start = time.perf_counter()
                    straight()
                    straight_elapsed = (time.perf_counter() - start) * 1000
                if n >= 5:  # the first few warm caches (and load the encoder)
                    api_ms.append(elapsed)
                    if straight is not None:
                        straight_ms.append(straight_elapsed)
            line = f"  {kind:<20}{statistics.median(api_ms):9.1f}{percentile(api_ms, 0.95):9.1f}"
            if straight_ms:
                line += f"{statistics.median(straight_ms):14.1f}{percentile(straight_ms, 0.95):9.1f}"
                line += f"{percentile(api_ms, 0.95) / percentile(straight_ms, 0.95):10.2f}x"
            print(line)
        rss, peak = rss_mb(pid)
    if embed is not None:  # the API's semantic search embeds its query first; the straight one is handed the vector
        embedding_ms = []
        for word in WORDS * 3:
            start = time.perf_counter()
            embed(word)
            embedding_ms.append((time.perf_counter() - start) * 1000)
        print(f"  (semantic through the API includes embedding the query: {statistics.median(embedding_ms):.1f} ms p50 here)")
    print(f"  API server process: {rss:,.0f} MB resident (peak {peak:,.0f}), the encoder loaded; load average {os.getloadavg()[0]:.2f}")
    novelty(index, documents, rng)


def novelty(index: DocumentIndex, documents: list[TaggedDocument], rng: random.Random) -> None:
    batch = rng.sample(documents, NOVELTY_BATCH)
    asked = {t.id: {(e.label, entity_key(e.normalized)) for e in t.entities if e.label in ("ORG", "PRODUCT")} for t in batch}
    start = time.perf_counter()
    one_by_one = {doc_id: index.known_entity_keys(pairs, exclude_id=doc_id) for doc_id, pairs in asked.items()}
    single = time.perf_counter() - start
    start = time.perf_counter()
    together = index.known_entity_keys_many(asked)
    batched = time.perf_counter() - start
    assert together == one_by_one
    print(f"  novelty for {NOVELTY_BATCH} documents: one request each {single * 1000:8.1f} ms, one for the batch {batched * 1000:7.1f} ms")


def engine_figures(url: str, documents: list[TaggedDocument], args: argparse.Namespace, rng: random.Random) -> None:
    from kunlun_nlp.index.engine import SearchEngineIndex

    index = SearchEngineIndex(url, index_name=f"kunlun-scale-{len(documents)}", timeout=60)
    if args.rebuild:
        index.drop()
    seconds = build(index, documents, args.rebuild)
    if seconds is not None:
        print(f"engine build: {len(documents) / seconds:,.0f} docs/s")
    index.client.options(request_timeout=900).indices.forcemerge(index=index.alias, max_num_segments=1)  # as a settled index is
    try:
        env = {"KUNLUN_ENGINE_URL": url, "KUNLUN_INDEX_NAME": index.alias, "KUNLUN_DATA_DIR": str(Path(args.workdir) / "engine-data")}
        measure("engine (Elasticsearch 8.15)", index, env, documents, args.queries, rng)
        size = index.client.indices.stats(index=index.alias)["_all"]["primaries"]["store"]["size_in_bytes"]
        (node,) = index.client.nodes.info(metric="process")["nodes"].values()
        rss, peak = rss_mb(node["process"]["id"])
        heap = index.client.nodes.stats(metric="jvm")
        (stats,) = heap["nodes"].values()
        print(
            f"  index size {size / 2**20:,.0f} MB; Elasticsearch process {rss:,.0f} MB resident (peak {peak:,.0f}),"
            f" heap used {stats['jvm']['mem']['heap_used_in_bytes'] / 2**20:,.0f} MB; load average {os.getloadavg()[0]:.2f}"
        )
    finally:
        index.close()


def embedded_figures(documents: list[TaggedDocument], args: argparse.Namespace, rng: random.Random) -> None:
    from kunlun_nlp.index.embedded import EmbeddedIndex

    data_dir = Path(args.workdir) / f"embedded-{len(documents)}"
    path = Settings(data_dir=data_dir).embedded_index_path  # where the API opens it
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = path.with_name(path.name + ".vectors")
    if args.rebuild:
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    index = EmbeddedIndex(path)
    seconds = build(index, documents, args.rebuild)
    if seconds is not None:
        print(f"embedded build: {len(documents) / seconds:,.0f} docs/s")
    graph.unlink(missing_ok=True)
    start = time.perf_counter()
    index.nearest(documents[0].embedding)
    built = time.perf_counter() - start
    index.close()  # writes the graph
    index = EmbeddedIndex(path)
    start = time.perf_counter()
    index.nearest(documents[0].embedding)
    loaded = time.perf_counter() - start
    print(f"embedded vector graph: built from the stored embeddings in {built:.1f} s, loaded from its file in {loaded:.2f} s")
    try:
        measure("embedded (SQLite FTS5 + usearch HNSW)", index, {"KUNLUN_DATA_DIR": str(data_dir)}, documents, args.queries, rng)
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        print(f"  index size {size / 2**20:,.0f} MB (file, WAL and vector graph)")
    finally:
        index.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engine-url", default=os.environ.get("KUNLUN_ENGINE_URL"))
    parser.add_argument("--workdir", default=str(Path.home() / ".cache" / "kunlun-nlp" / "scale"))
    parser.add_argument("--rebuild", action="store_true", help="index the documents again even when an index holds them")
    parser.add_argument("--backend", choices=("both", "embedded", "engine"), default="both")
    args = parser.parse_args()
    rng = random.Random(7)
    documents = scaled_corpus(tagged_sample(), args.docs)
    print(f"documents: {len(documents):,} (50 tagged reports varied); {os.cpu_count()} CPU(s); load average {os.getloadavg()[0]:.2f}")
    if args.backend in ("both", "embedded"):
        embedded_figures(documents, args, rng)
    if args.backend in ("both", "engine"):
        if args.engine_url:
            engine_figures(args.engine_url, documents, args, rng)
        else:
            print("engine: not measured (no --engine-url / KUNLUN_ENGINE_URL)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
