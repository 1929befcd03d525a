"""Tagging throughput: the whole pipeline next to each stage alone, measured in one run.

    .venv/bin/python benchmarks/tagging.py [--docs N] [--model VERSION]

Prints documents per second for: the entity stages alone (both spaCy NERs and the passes), the
encoder alone (the model's int8 ONNX graph, and the torch MiniLM baseline), and the whole tagging
pipeline; then the pipeline's rate as a share of its stages' combined rate (1 / (1/a + 1/b)),
so the overhead of everything else shows as a ratio. Median of 3 passes each.
With a trained model, also the encoder and the whole pipeline under other ONNX Runtime session
settings (kunlun_nlp.onnx_encoder.SessionSettings: intra-op threads, spinning), the worker's
among them; run two at once to see them under a worker pool's load.
Documents: realtrain texts from ../shared/data when present, else the sample corpus.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kunlun_nlp.config import Settings  # noqa: E402
from kunlun_nlp.models import find_model  # noqa: E402
from kunlun_nlp.onnx_encoder import BranchEncoder, SessionSettings, configure_sessions  # noqa: E402
from kunlun_nlp.pipeline import Pipeline  # noqa: E402
from kunlun_nlp.report_text import classified_text  # noqa: E402
from kunlun_nlp.readers import Document, read_file  # noqa: E402

REALTRAIN = ROOT.parent / "shared" / "data" / "realtrain" / "realtrain.jsonl"
SAMPLE = ROOT / "corpora" / "sample" / "reports.jsonl"
# ONNX Runtime's own default (a spinning thread per core), ours (the same without spinning), a worker's
SESSION_VARIANTS = (SessionSettings(spinning=True), SessionSettings(), SessionSettings(threads=1))


def rate(fn, count: int, passes: int = 3) -> float:
    fn()  # warm-up
    seconds = []
    for _ in range(passes):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return count / statistics.median(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--model", default=None, help="model version (default: latest)")
    args = parser.parse_args()
    source = REALTRAIN if REALTRAIN.exists() else SAMPLE
    documents = [d for d in read_file(source) if isinstance(d, Document)][: args.docs]
    texts = [d.text for d in documents]
    classified = [classified_text(d) for d in documents]
    words = sum(len(t.split()) for t in texts) / len(texts)
    settings = Settings.from_env(model=args.model)
    model = find_model(settings.model, settings.model_dirs)
    pipeline = Pipeline.load(model)
    entity_stages = Pipeline(pipeline.config.up_to("entities"), model=model)
    print(f"{len(documents)} documents from {source.name}, {words:.0f} words on average; model {pipeline.model_version}")

    figures = {}
    figures["entity stages alone (spaCy and the passes)"] = rate(lambda: entity_stages.tag(documents), len(texts))
    figures["encoder alone (" + type(pipeline.encoder).__name__ + ")"] = rate(lambda: pipeline.encoder.encode(classified), len(texts))
    if model is not None:
        from kunlun_nlp.encoder import TextEncoder

        torch_encoder = TextEncoder()
        figures["torch MiniLM alone (baseline encoder)"] = rate(lambda: torch_encoder.encode(classified), len(texts))
    figures["whole tagging pipeline"] = rate(lambda: pipeline.tag(documents), len(texts))
    for name, value in figures.items():
        print(f"  {name:<48}{value:8.1f} docs/s")
    spacy_rate, encoder_rate = list(figures.values())[:2]
    combined = 1 / (1 / spacy_rate + 1 / encoder_rate)
    print(f"  {'stages combined (1 / (1/spaCy + 1/encoder))':<48}{combined:8.1f} docs/s")
    print(f"  pipeline / stages combined: {figures['whole tagging pipeline'] / combined:.3f}")
    if model is not None:
        print(f"  ONNX Runtime session settings (this process's: {pipeline.encoder.session_settings}):")
        for settings in SESSION_VARIANTS:
            configure_sessions(settings)
            encoder = BranchEncoder(model.encoder_path, model.tokenizer_path)
            whole = Pipeline.load(model)
            figures = {"encoder": rate(lambda: encoder.encode(classified), len(texts)), "pipeline": rate(lambda: whole.tag(documents), len(texts))}
            print(f"    threads {settings.threads or 'per core'}, spinning {'on' if settings.spinning else 'off'}: "
                  + ", ".join(f"{k} {v:.1f} docs/s" for k, v in figures.items()))
        configure_sessions(None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
