"""Recover a version's branch.pt from its int8 graph, for versions trained before branch.pt existed.

    python -m training.recover_branch models/v20261129-1812

A feedback round continues from the active version's tuned branch (training/branch_model.py). The
versions trained before branch.pt was saved still carry that branch inside encoder.onnx, quantised
per output channel: each weight is (int8 - zero point) x its channel's scale. This reads those
weights back (the heads by name; each tuned Linear through the Add that adds its named bias) and
checks that the recovered model scores like the graph before writing anything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from training.branch_model import BRANCH_FILE, BranchedEncoder, save_branch_weights

_LINEARS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense")


def _dequantized(graph, base: str) -> np.ndarray:
    """(out, in) fp32 weight from `<base>_quantized/_scale/_zero_point` (stored transposed: in x out)."""
    inits = {i.name: i for i in graph.initializer}
    q = numpy_helper.to_array(inits[f"{base}_quantized"]).astype(np.float32)
    scale = numpy_helper.to_array(inits[f"{base}_scale"]).astype(np.float32)
    zero = numpy_helper.to_array(inits[f"{base}_zero_point"]).astype(np.float32)
    return ((q - zero) * scale).T


def _weight_feeding(graph, bias: str) -> str:
    """The quantised weight's base name behind the Add that adds `bias`."""
    producers = {out: node for node in graph.node for out in node.output}
    (add,) = [n for n in graph.node if n.op_type == "Add" and bias in n.input]
    frontier = [i for i in add.input if i != bias]
    seen = set()
    while frontier:
        name = frontier.pop()
        node = producers.get(name)
        # only the dequantising chain (Cast, Mul by the scales) leads back to this Linear's MatMul
        if node is None or name in seen or node.op_type not in ("MatMulInteger", "Mul", "Cast"):
            continue
        seen.add(name)
        if node.op_type == "MatMulInteger":
            return node.input[1].removesuffix("_quantized")
        frontier.extend(node.input)
    raise LookupError(f"no quantised MatMul feeds {bias}")


def recovered_state(encoder_path: Path, tuned_layers: int) -> dict[str, torch.Tensor]:
    graph = onnx.load(str(encoder_path)).graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    state: dict[str, torch.Tensor] = {}
    for head in ("domain_head", "subtype_head"):
        state[f"{head}.weight"] = torch.from_numpy(_dequantized(graph, f"{head}.weight_Transposed"))
        state[f"{head}.bias"] = torch.from_numpy(inits[f"{head}.bias"].copy())
    for layer in range(tuned_layers):
        prefix = f"tuned_top.{layer}."
        for linear in _LINEARS:
            bias = f"{prefix}{linear}.bias"
            state[f"{prefix}{linear}.weight"] = torch.from_numpy(_dequantized(graph, _weight_feeding(graph, bias)))
            state[bias] = torch.from_numpy(inits[bias].copy())
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            for part in ("weight", "bias"):
                state[f"{prefix}{norm}.{part}"] = torch.from_numpy(inits[f"{prefix}{norm}.{part}"].copy())
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", type=Path, help="a version folder with encoder.onnx and model.json")
    args = parser.parse_args(argv)
    import json

    from kunlun_nlp.classifier import pooled_probabilities
    from kunlun_nlp.onnx_encoder import BranchEncoder
    from kunlun_nlp.vocabulary import DOMAIN_LABELS, SUBTYPE_LABELS

    manifest = json.loads((args.version / "model.json").read_text(encoding="utf-8"))
    tuned = manifest["plan"]["classifier"]["tuned_layers"]
    model = BranchedEncoder(len(DOMAIN_LABELS), len(SUBTYPE_LABELS), tuned_layers=tuned).eval()
    model.load_state_dict(recovered_state(args.version / manifest["encoder"], tuned), strict=False)

    # the check: the recovered fp32 model against the graph it came from, on the corpus's first texts
    from training.datasets import load_corpus

    texts = [e.text for e in load_corpus()[:40]]
    graph = BranchEncoder(args.version / manifest["encoder"], args.version / manifest["tokenizer"])
    encoded = graph.encode(texts)
    chunker = graph.chunker
    # The graph also quantises activations, so the two differ a little as any fp32 model and its int8
    # export do (the training run's int8 check); a wrong weight would differ by far more.
    differences, changed = [], 0
    limits = np.array([manifest["domain_thresholds"][d] for d in DOMAIN_LABELS])
    with torch.inference_mode():
        for text, reference in zip(texts, encoded):
            ids, mask = chunker.batch(chunker.chunk([text]))
            _, logits, _, _ = model(torch.from_numpy(ids), torch.from_numpy(mask))
            ours, theirs = pooled_probabilities(logits.numpy()), pooled_probabilities(reference.domain_logits)
            differences.append(float(np.abs(ours - theirs).mean()))
            changed += int(((ours >= limits) != (theirs >= limits)).sum())
    print(
        f"recovered branch vs the int8 graph on {len(texts)} texts: mean domain probability difference "
        f"{np.mean(differences):.4f}, {changed} of {len(texts) * len(limits)} decisions differ"
    )
    if np.mean(differences) > 0.02 or changed > len(texts) * len(limits) // 50:
        print("too far from the graph: nothing written", file=sys.stderr)
        return 1
    save_branch_weights(model, args.version / BRANCH_FILE)
    print(f"wrote {args.version / BRANCH_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
