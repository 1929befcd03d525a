"""The trained encoder at run time: one int8 ONNX graph, no torch.

One pass over each chunk gives the MiniLM embedding (for similar-document and semantic search),
the domain and sub-type logits, and each token's contribution to the domain logits (evidence).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kunlun_nlp.chunking import Chunker, length_sorted_batches
from kunlun_nlp.encoder import EncodedText, mean_embedding, pool_documents


class BranchEncoder:
    # One window per run by default. The int8 graph quantizes activations with ranges taken over
    # the whole run, so in a batch a window's scores moved with its neighbours and their padding (by
    # up to 0.10 in probability on realtrain, enough to flip a domain); alone they are the same in
    # any company. On 2 cores it is also faster, with no padding: 33.5 against 28.6 docs/s.
    def __init__(self, onnx_path: str | Path, tokenizer_path: str | Path, *, batch_size: int = 1, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.chunker = Chunker(tokenizer_path)
        self.batch_size = batch_size
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str]) -> list[EncodedText]:
        chunks = self.chunker.chunk(texts)
        embeddings = np.zeros((len(chunks), self.dim), dtype=np.float32)
        domain_logits: list[np.ndarray] = [None] * len(chunks)  # type: ignore[list-item]
        subtype_logits: list[np.ndarray] = [None] * len(chunks)  # type: ignore[list-item]
        contributions: list[np.ndarray] = [None] * len(chunks)  # type: ignore[list-item]
        for batch in length_sorted_batches(chunks, self.batch_size):
            ids, mask = self.chunker.batch([chunks[i] for i in batch])
            embedding, domains, subtypes, tokens = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            for row, i in enumerate(batch):
                n = len(chunks[i].token_ids)
                embeddings[i] = embedding[row]
                domain_logits[i] = domains[row]
                subtype_logits[i] = subtypes[row]
                contributions[i] = tokens[row, 1 : n + 1]  # drop [CLS] and [SEP]: they quote no text
        return [
            EncodedText(
                embedding=mean_embedding(embeddings[rows]),
                chunk_embeddings=embeddings[rows],
                chunk_spans=[(chunks[i].start, chunks[i].end) for i in rows],
                domain_logits=np.stack([domain_logits[i] for i in rows]),
                subtype_logits=np.stack([subtype_logits[i] for i in rows]),
                token_contributions=[contributions[i] for i in rows],
                token_offsets=[chunks[i].offsets for i in rows],
            )
            for rows in pool_documents(len(texts), chunks)
        ]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([e.embedding for e in self.encode(texts)])
