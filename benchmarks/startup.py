"""Cold start: seconds from a fresh process to its first tagged document, by phase.

    .venv/bin/python benchmarks/startup.py [--runs N] [--code DIR]

Every figure is the median of N fresh subprocesses, measured in one run:
- baselines: the interpreter alone, and `import spacy` as spaCy imports itself (thinc loads torch);
- the service's phases in one process: import (kunlun_nlp.service, as the API and CLI import it),
  load (the configured model's pipeline), first tag (one short report), and whether torch was loaded;
  once with the disk-cached tables (kunlun_nlp.disk_cache) already built, once with an empty cache
  folder (the first process after an install or an upgrade builds them);
- `kunlun-nlp tag` for one document: seconds to its first line of output, and to its exit.
--code runs another copy of the code instead of this checkout's (e.g. an older commit written out
with `git archive`), for a before/after on the same machine and load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Police seized 3 t of gutter oil in Zhengzhou."

PHASES = f"""
import time
started = time.perf_counter()
import json, sys
from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document
from kunlun_nlp.service import KunlunService
imported = time.perf_counter()
service = KunlunService(Settings.from_env())
service.pipeline
loaded = time.perf_counter()
service.tag([Document.create({TEXT!r})])
tagged = time.perf_counter()
print(json.dumps({{"import": imported - started, "load": loaded - imported, "first tag": tagged - loaded,
                  "torch": "torch" in sys.modules}}))
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    # Run in an empty folder: no data folder (no index to judge novelty against), and no
    # checkout on the path ahead of --code.
    with tempfile.TemporaryDirectory(prefix="kunlun-startup-") as cwd:
        start = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def median_wall(command: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(timed(command, env)[0] for _ in range(runs))


def first_line(command: list[str], env: dict[str, str], stdin: str) -> tuple[float, float]:
    """Seconds to the command's first line of output (what its user waits for), and to its exit."""
    with tempfile.TemporaryDirectory(prefix="kunlun-startup-") as cwd, tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env, cwd=cwd, text=True)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(stdin)
        process.stdin.close()
        line = process.stdout.readline()
        first = time.perf_counter() - start
        process.stdout.read()
        process.wait()
        done = time.perf_counter() - start
        if process.returncode != 0 or not line:
            errors.seek(0)
            raise SystemExit(f"{command[:3]} failed ({process.returncode}):\n{errors.read()[-2000:]}")
    return first, done


def phases(env: dict[str, str], runs: int, *, fresh_cache: bool) -> dict[str, float | bool]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="kunlun-startup-cache-") as empty:
            run_env = {**env, "KUNLUN_CACHE_DIR": empty} if fresh_cache else env
            wall, out = timed([sys.executable, "-c", PHASES], run_env)
        results.append({**json.loads(out), "process": wall})
    figures: dict[str, float | bool] = {k: statistics.median(r[k] for r in results) for k in ("import", "load", "first tag", "process")}
    figures["torch"] = any(r["torch"] for r in results)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code runs (default: this one)")
    args = parser.parse_args()
    code = args.code.resolve()
    # The code's folder first on the path, ahead of the installed (editable) package.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli = [sys.executable, "-c", "import sys; from kunlun_cli.main import main; sys.exit(main())", "tag"]
    print(f"code: {code}; median of {args.runs} fresh processes each, in seconds")

    print(f"  {'python -c pass (baseline)':<44}{median_wall([sys.executable, '-c', 'pass'], env, args.runs):7.2f}")
    spacy_import = median_wall([sys.executable, "-c", "import spacy"], env, args.runs)
    print(f"  {'import spacy, as spaCy does it (baseline)':<44}{spacy_import:7.2f}")
    for label, fresh in (("tables cached", False), ("tables not cached yet", True)):
        figures = phases(env, args.runs, fresh_cache=fresh)
        torch = "loaded" if figures.pop("torch") else "not loaded"
        parts = "  ".join(f"{k} {v:.2f}" for k, v in figures.items() if k != "process")
        print(f"  {'service, ' + label:<44}{figures['process']:7.2f}   ({parts}; torch {torch})")
    runs = [first_line(cli, env, json.dumps({"text": TEXT}) + "\n") for _ in range(args.runs)]
    first, done = (statistics.median(r[i] for r in runs) for i in (0, 1))
    print(f"  {'kunlun-nlp tag, one document: first result':<44}{first:7.2f}   ({first / spacy_import:.2f}x spaCy's import; exit {done:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
