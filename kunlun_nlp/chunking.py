"""Split texts into overlapping token windows for a BERT-style encoder.

One Chunker serves the torch encoder, the ONNX encoder and training, so a text is cut the same way
everywhere. It uses the `tokenizers` library directly: fast, and no transformers import at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Chunk:
    doc_index: int  # which input text the chunk belongs to
    start: int  # character offsets into that text
    end: int
    token_ids: list[int]  # without [CLS]/[SEP]
    offsets: list[tuple[int, int]]  # character span of each token


class Chunker:
    def __init__(self, tokenizer_file: str | Path, *, max_tokens: int = 256, stride: int = 32) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls_id = self.tokenizer.token_to_id("[CLS]")
        self.sep_id = self.tokenizer.token_to_id("[SEP]")
        self.pad_id = self.tokenizer.token_to_id("[PAD]")
        self.window = max_tokens - 2  # room for [CLS] and [SEP]
        self.step = self.window - stride

    def chunk(self, texts: list[str]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for doc_index, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids, offsets = encoding.ids, encoding.offsets
            if not ids:
                chunks.append(Chunk(doc_index, 0, 0, [], []))
                continue
            begin = 0
            while True:
                end = min(begin + self.window, len(ids))
                chunks.append(
                    Chunk(doc_index, offsets[begin][0], offsets[end - 1][1], ids[begin:end], offsets[begin:end])
                )
                if end == len(ids):
                    break
                begin += self.step
        return chunks

    def batch(self, chunks: list[Chunk]) -> tuple[np.ndarray, np.ndarray]:
        """[CLS] ids [SEP], padded: (input_ids, attention_mask) as int64 arrays."""
        width = max(len(c.token_ids) for c in chunks) + 2
        ids = np.full((len(chunks), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(chunks), width), dtype=np.int64)
        for row, chunk in enumerate(chunks):
            n = len(chunk.token_ids) + 2
            ids[row, :n] = [self.cls_id, *chunk.token_ids, self.sep_id]
            mask[row, :n] = 1
        return ids, mask


def length_sorted_batches(chunks: list[Chunk], batch_size: int) -> list[list[int]]:
    """Indices of chunks in batches of similar length: less padding, same results."""
    order = sorted(range(len(chunks)), key=lambda i: len(chunks[i].token_ids))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
