"""Engine indexing throughput: the library's put against a plain streaming_bulk of the same records.

    .venv/bin/python benchmarks/indexing.py [--engine-url URL] [--docs N] [--rounds N]

Both write the same documents (real tagged reports varied to N, benchmarks/scale.py) into a fresh
index of the same mapping, in alternating rounds, and both end searchable: the plain bulk is
followed by one refresh, as put ends. The plain bulk is handed ready records (and, a second
figure, tagged documents it makes into records as it goes); put is handed tagged documents, so its
figure includes making the records and reading stored reviews.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import tagged_sample  # noqa: E402

from kunlun_nlp.index.engine import SearchEngineIndex, engine_record  # noqa: E402
from kunlun_nlp.testing.synthetic import scaled_corpus  # noqa: E402


def fresh_index(url: str) -> SearchEngineIndex:
    index = SearchEngineIndex(url, index_name=f"kunlun-bench-{uuid.uuid4().hex[:8]}")
    index.ensure_index()
    return index


def library_put(url: str, documents) -> float:
    index = fresh_index(url)
    try:
        start = time.perf_counter()
        report = index.put(documents)
        seconds = time.perf_counter() - start
        assert report.indexed == len(documents) and not report.failed, report.failed
        return seconds
    finally:
        index.drop()
        index.close()


def raw_bulk(url: str, records) -> float:
    """`records`: ready records, or tagged documents made into records as the bulk goes (timed)."""
    from elasticsearch.helpers import streaming_bulk

    index = fresh_index(url)
    try:
        start = time.perf_counter()
        ready = (r if isinstance(r, dict) else engine_record(r) for r in records)
        actions = ({"_index": index.alias, "_id": r["id"], "_source": r} for r in ready)
        for ok, item in streaming_bulk(index.client, actions):
            assert ok, item
        index.client.indices.refresh(index=index.alias)
        seconds = time.perf_counter() - start
        assert index.count() == len(records)
        return seconds
    finally:
        index.drop()
        index.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine-url", default=os.environ.get("KUNLUN_ENGINE_URL", "http://127.0.0.1:9250"))
    parser.add_argument("--docs", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    documents = scaled_corpus(tagged_sample(), args.docs)
    records = [engine_record(t) for t in documents]
    put_times, raw_times, making_times = [], [], []
    for _ in range(args.rounds):  # alternating, so that drift on a shared machine hits both
        put_times.append(library_put(args.engine_url, documents))
        raw_times.append(raw_bulk(args.engine_url, records))
        making_times.append(raw_bulk(args.engine_url, documents))
    put_s, raw_s, making_s = (statistics.median(t) for t in (put_times, raw_times, making_times))
    print(f"documents: {len(documents)}; {args.rounds} rounds, median; {os.cpu_count()} CPU(s); load {os.getloadavg()[0]:.2f}")
    print(f"{'raw streaming_bulk + refresh':<44}{len(documents) / raw_s:9,.0f} docs/s")
    print(f"{'the same, making the records as it goes':<44}{len(documents) / making_s:9,.0f} docs/s")
    print(
        f"{'SearchEngineIndex.put':<44}{len(documents) / put_s:9,.0f} docs/s   ratio to raw {raw_s / put_s:.2f}x,"
        f" to raw making the records {making_s / put_s:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
