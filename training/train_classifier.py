"""Fine-tune the domain classifier branch and export it as one int8 ONNX graph.

Multiple-instance training: a document's logits are the max over its chunks' logits, the same
pooling used at inference, so a round-up whose third chunk reports a wildlife seizure is not
penalised for its first chunk being about food. The frozen shared layers run once over all
chunks; each epoch only runs the tuned branch.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kunlun_nlp.chunking import Chunker, length_sorted_batches
from kunlun_nlp.vocabulary import DOMAIN_LABELS, SUBTYPE_LABELS
from kunlun_nlp.encoder import default_model_dir
from kunlun_nlp.report_text import classified_text
from training.branch_model import BranchedEncoder
from training.datasets import LabeledExample

# Sources whose sub-type annotations can be trusted, and for which domains.
SUBTYPE_SUPERVISION = {"corpus": set(DOMAIN_LABELS), "ema": {"FOOD"}}


@dataclass
class ClassifierTrainingConfig:
    epochs: int = 4
    learning_rate: float = 2e-4
    weight_decay: float = 0.01
    batch_documents: int = 16
    tuned_layers: int = 2
    max_chunks_per_document: int = 4
    max_tokens: int = 256
    seed: int = 13


class _Prepared:
    """Chunks of every document, their cached shared states, and the targets."""

    def __init__(self, model: BranchedEncoder, chunker: Chunker, examples: list[LabeledExample], limit: int):
        chunks = [c for c in chunker.chunk([classified_text(e) for e in examples])]
        kept, per_doc = [], {}
        for chunk in chunks:
            if per_doc.get(chunk.doc_index, 0) < limit:
                per_doc[chunk.doc_index] = per_doc.get(chunk.doc_index, 0) + 1
                kept.append(chunk)
        self.chunks = kept
        self.chunks_of: list[list[int]] = [[] for _ in examples]
        for i, chunk in enumerate(kept):
            self.chunks_of[chunk.doc_index].append(i)
        self.states: list[torch.Tensor] = [None] * len(kept)  # type: ignore[list-item]
        self.masks: list[torch.Tensor] = [None] * len(kept)  # type: ignore[list-item]
        with torch.inference_mode():
            for batch in length_sorted_batches(kept, 32):
                ids, mask = chunker.batch([kept[i] for i in batch])
                shared = model.shared_states(torch.from_numpy(ids), torch.from_numpy(mask))
                for row, i in enumerate(batch):
                    n = int(mask[row].sum())
                    self.states[i] = shared[row, :n].to(torch.float16).clone()
                    self.masks[i] = torch.ones(n, dtype=torch.long)
        self.domains = torch.tensor([[float(d in e.domains) for d in DOMAIN_LABELS] for e in examples])
        self.subtypes = torch.tensor([[float(s in e.subtypes) for s in SUBTYPE_LABELS] for e in examples])
        self.subtype_mask = torch.tensor(
            [
                [float(s.split(".")[0] in SUBTYPE_SUPERVISION.get(e.source, ()) and s.split(".")[0] in e.domains) for s in SUBTYPE_LABELS]
                for e in examples
            ]
        )
        self.weights = torch.tensor([e.weight for e in examples])

    def padded(self, chunk_ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(self.states[i].shape[0] for i in chunk_ids)
        states = torch.zeros(len(chunk_ids), width, self.states[chunk_ids[0]].shape[1])
        mask = torch.zeros(len(chunk_ids), width, dtype=torch.long)
        for row, i in enumerate(chunk_ids):
            n = self.states[i].shape[0]
            states[row, :n] = self.states[i].float()
            mask[row, :n] = 1
        return states, mask


def _document_logits(model: BranchedEncoder, data: _Prepared, docs: list[int]):
    chunk_ids = [c for d in docs for c in data.chunks_of[d]]
    owner = torch.tensor([j for j, d in enumerate(docs) for _ in data.chunks_of[d]])
    states, mask = data.padded(chunk_ids)
    domain_logits, subtype_logits, _ = model.branch(states, mask)
    # max over each document's chunks
    doc_domain = torch.full((len(docs), domain_logits.shape[1]), -1e4)
    doc_subtype = torch.full((len(docs), subtype_logits.shape[1]), -1e4)
    doc_domain = doc_domain.scatter_reduce(0, owner[:, None].expand_as(domain_logits), domain_logits, "amax")
    doc_subtype = doc_subtype.scatter_reduce(0, owner[:, None].expand_as(subtype_logits), subtype_logits, "amax")
    return doc_domain, doc_subtype


_BCE = torch.nn.BCEWithLogitsLoss(reduction="none")


def warmup_schedule(optimiser, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate rises over the first tenth of the steps, then falls linearly to zero."""
    warmup = max(1, steps // 10)
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (steps - step) / max(1, steps - warmup))
    )


def training_step(model: BranchedEncoder, data: _Prepared, docs: list[int], optimiser, schedule, parameters) -> float:
    """One optimiser step on documents `docs`: the weighted domain loss plus half the sub-type loss
    (sub-types only where the source's annotations are trusted); the batch's loss."""
    domain_logits, subtype_logits = _document_logits(model, data, docs)
    weights = data.weights[docs]
    domain_loss = (_BCE(domain_logits, data.domains[docs]).mean(1) * weights).sum() / weights.sum()
    sub_mask = data.subtype_mask[docs]
    subtype_loss = (_BCE(subtype_logits, data.subtypes[docs]) * sub_mask).sum() / sub_mask.sum().clamp(min=1)
    loss = domain_loss + 0.5 * subtype_loss
    optimiser.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    optimiser.step()
    schedule.step()
    return float(loss.detach())


def predict_probabilities(model: BranchedEncoder, data: _Prepared) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    domain, subtype = [], []
    with torch.inference_mode():
        for start in range(0, len(data.chunks_of), 32):
            d, s = _document_logits(model, data, list(range(start, min(start + 32, len(data.chunks_of)))))
            domain.append(torch.sigmoid(d))
            subtype.append(torch.sigmoid(s))
    return torch.cat(domain).numpy(), torch.cat(subtype).numpy()


def best_thresholds(probabilities: np.ndarray, gold: np.ndarray, weights: np.ndarray | None = None) -> list[float]:
    """Per label, the threshold with the best F1 on the dev split (ties: the one nearest 0.5).

    With `weights`, each dev document counts as its source's loss weight, so real text (realtrain)
    weighs more in the choice than written or weakly labeled text, as it does in training.
    """
    weights = np.ones(len(probabilities)) if weights is None else np.asarray(weights, dtype=float)
    thresholds = []
    for column in range(gold.shape[1]):
        best, best_key = 0.5, (-1.0, 0.0)
        positive = gold[:, column] > 0.5
        # candidates rounded first, so the stored threshold makes exactly the choice that was scored
        for candidate in np.round(np.arange(5, 96) / 100, 2):
            predicted = probabilities[:, column] >= candidate
            tp = float(weights[predicted & positive].sum())
            denominator = float(weights[predicted].sum() + weights[positive].sum())
            f1 = 2 * tp / denominator if denominator else 0.0
            key = (round(f1, 6), -abs(candidate - 0.5))
            if key > best_key:
                best, best_key = float(candidate), key
        thresholds.append(best)
    return thresholds


def train_classifier(
    train: list[LabeledExample], dev: list[LabeledExample], config: ClassifierTrainingConfig, log=print
) -> tuple[BranchedEncoder, dict]:
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    started = time.monotonic()
    model = BranchedEncoder(len(DOMAIN_LABELS), len(SUBTYPE_LABELS), tuned_layers=config.tuned_layers)
    chunker = Chunker(default_model_dir() / "tokenizer.json", max_tokens=config.max_tokens)
    model.eval()
    train_data = _Prepared(model, chunker, train, config.max_chunks_per_document)
    dev_data = _Prepared(model, chunker, dev, config.max_chunks_per_document)
    log(f"cached shared states for {len(train_data.chunks)} + {len(dev_data.chunks)} chunks in {time.monotonic() - started:.0f}s")

    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = warmup_schedule(optimiser, config.epochs * math.ceil(len(train) / config.batch_documents))
    order = list(range(len(train)))
    rng = random.Random(config.seed)
    history = []
    for epoch in range(1, config.epochs + 1):
        model.train()
        model.embeddings.eval()  # frozen parts keep inference behaviour (no dropout)
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), config.batch_documents):
            docs = order[start : start + config.batch_documents]
            total += training_step(model, train_data, docs, optimiser, schedule, parameters) * len(docs)
        probabilities, _ = predict_probabilities(model, dev_data)
        dev_f1 = macro_f1(probabilities >= 0.5, dev_data.domains.numpy() > 0.5)
        history.append({"epoch": epoch, "train_loss": total / len(order), "dev_macro_f1_at_0.5": dev_f1})
        log(f"epoch {epoch}: loss {total / len(order):.4f}, dev macro-F1 at 0.5 {dev_f1:.3f} ({time.monotonic() - started:.0f}s)")

    domain_probabilities, subtype_probabilities = predict_probabilities(model, dev_data)
    # domains: real text weighs more in the choice; sub-types are annotated on written text only
    domain_thresholds = best_thresholds(domain_probabilities, dev_data.domains.numpy(), dev_data.weights.numpy())
    subtype_thresholds = best_thresholds(subtype_probabilities, dev_data.subtypes.numpy())
    dev_f1 = macro_f1(domain_probabilities >= np.array(domain_thresholds), dev_data.domains.numpy() > 0.5)
    report = {
        "config": config.__dict__,
        "history": history,
        "domain_thresholds": dict(zip(DOMAIN_LABELS, domain_thresholds)),
        "subtype_thresholds": dict(zip(SUBTYPE_LABELS, subtype_thresholds)),
        "dev_macro_f1_calibrated": dev_f1,
        "train_documents": len(train),
        "dev_documents": len(dev),
        "seconds": round(time.monotonic() - started, 1),
    }
    log(f"dev macro-F1 with calibrated thresholds {dev_f1:.3f}; thresholds {report['domain_thresholds']}")
    return model.eval(), report


def macro_f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    scores = []
    for column in range(gold.shape[1]):
        tp = int((predicted[:, column] & gold[:, column]).sum())
        scores.append(2 * tp / max(1, int(predicted[:, column].sum()) + int(gold[:, column].sum())))
    return float(np.mean(scores))


def export_onnx(model: BranchedEncoder, path: Path, *, quantize: bool = True) -> Path:
    """One graph, (input_ids, attention_mask) → (embedding, domain_logits, subtype_logits, contributions).

    int8: dynamic quantisation, per-channel with reduced range (plain int8 loses too much: cosine
    to fp32 0.945 against 0.993, per the measurements in shared/MEASUREMENTS.md).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fp32 = path.with_suffix(".fp32.onnx")
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(
        model.eval(),
        (ids, mask),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding", "domain_logits", "subtype_logits", "contributions"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "embedding": {0: "batch"},
            "domain_logits": {0: "batch"},
            "subtype_logits": {0: "batch"},
            "contributions": {0: "batch", 1: "tokens"},
        },
        opset_version=17,
        dynamo=False,
    )
    if not quantize:
        fp32.rename(path)
        return path
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    fp32.unlink()
    return path
