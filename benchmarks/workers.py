"""Intake throughput through the queue: 1 and 2 worker processes against the stage limit, one run.

    .venv/bin/python benchmarks/workers.py [--docs N] [--workers 1,2] [--engine-url URL]

Documents of about 250 words (realtrain texts cut to 250 words; the sample corpus without it).
For each pool size: a fresh data folder and SQLite queue, the pool started and warmed (models
loaded, one batch run), then N documents queued at once and timed until the job is finished, i.e.
tagged and indexed. The stage limit is the same pipeline tagging the same documents in this process
with nothing else running (no queue, no index): what one core can do. Prints docs/s, each pool's
rate as a multiple of one worker and of the stage limit, and the load average during each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kunlun_nlp.config import Settings  # noqa: E402
from kunlun_nlp.document import Document  # noqa: E402
from kunlun_nlp.queue.workers import WorkerPool  # noqa: E402
from kunlun_nlp.readers import read_file  # noqa: E402
from kunlun_nlp.service import KunlunService  # noqa: E402

REALTRAIN = ROOT.parent / "shared" / "data" / "realtrain" / "realtrain.jsonl"
SAMPLE = ROOT / "corpora" / "sample" / "reports.jsonl"


def documents(count: int) -> list[Document]:
    source = REALTRAIN if REALTRAIN.exists() else SAMPLE
    texts = [" ".join(d.text.split()[:250]) for d in read_file(source) if isinstance(d, Document)]
    # distinct ids (and texts) for every copy, so nothing is stored twice
    return [Document.create(f"{texts[n % len(texts)]} [{n}]", title=f"report {n}") for n in range(count)]


def stage_limit(docs: list[Document]) -> float:
    service = KunlunService(Settings(data_dir=Path(tempfile.mkdtemp())))
    service.tag(docs[:16])  # warm
    start = time.perf_counter()
    for n in range(0, len(docs), 16):
        service.tag(docs[n : n + 16])
    return len(docs) / (time.perf_counter() - start)


def pool_rate(docs: list[Document], workers: int, engine_url: str | None) -> tuple[float, float]:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), engine_url=engine_url, index_name=f"kunlun-bench-{os.getpid()}-{workers}")
    service = KunlunService(settings)
    pool = WorkerPool(service.queue, lambda: KunlunService(settings), workers=workers)
    pool.start()
    try:
        warm = service.submit([Document.create(f"warm-up {n}: customs seized fake pens") for n in range(2 * workers)])
        while not service.queue.status(warm).finished:
            pool.poll()
        start, loads = time.perf_counter(), []
        job = service.submit(docs)
        while not service.queue.status(job).finished:
            pool.poll()
            loads.append(os.getloadavg()[0])
        elapsed = time.perf_counter() - start
    finally:
        pool.stop()
        if engine_url:
            service.index.drop()
        service.close()
    return len(docs) / elapsed, statistics.mean(loads) if loads else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--workers", default="1,2", help="pool sizes, comma-separated")
    parser.add_argument("--engine-url", default=None, help="index into this engine (default: the embedded index)")
    args = parser.parse_args()
    docs = documents(args.docs)
    print(f"{len(docs)} documents of about {statistics.mean(len(d.text.split()) for d in docs):.0f} words; "
          f"{os.cpu_count()} cores; index: {'engine' if args.engine_url else 'embedded'}")
    limit = stage_limit(docs)
    print(f"stage limit (tagging in one process, nothing else): {limit:6.1f} docs/s  load {os.getloadavg()[0]:.1f}")
    first = None
    for workers in (int(w) for w in args.workers.split(",")):
        rate, load = pool_rate(docs, workers, args.engine_url)
        first = first or rate
        print(f"{workers} worker(s), tag + index through the queue: {rate:6.1f} docs/s  "
              f"{rate / first:4.2f}x one worker  {rate / limit:4.2f}x the stage limit  load {load:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
