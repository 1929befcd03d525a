"""The trained encoder at run time: one int8 ONNX graph, no torch.

One pass over each chunk gives the MiniLM embedding (for similar-document and semantic search),
the domain and sub-type logits, and each token's contribution to the domain logits (evidence).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kunlun_nlp.chunking import Chunker, length_sorted_batches
from kunlun_nlp.encoder import EncodedText, mean_embedding, pool_documents

THREADS_ENV = "KUNLUN_ONNX_THREADS"  # intra-op threads per session; 0 or unset: one per core
SPINNING_ENV = "KUNLUN_ONNX_SPINNING"  # "1": idle pool threads busy-wait for work; "0" (default): they sleep


@dataclass(frozen=True)
class SessionSettings:
    """How an encoder's ONNX Runtime session uses the cores.

    ONNX Runtime's default, a pool thread per core that spins while it waits, suits a process that
    has the machine to itself, which on 2 cores beside spaCy, the API and the index it never has:
    spinning threads take the cores from the work. With other jobs running (load 4-5 on 2 cores)
    the encoder ran 2.7x faster with spinning off (8.5 against 3.2 docs/s, the whole pipeline 4.7
    against 2.2), so off is the default; a worker per core gets one thread (configure_for_worker):
    9.1 against 3.0 docs/s under the same load. The outputs are the same bit for bit."""

    threads: int | None = None  # intra-op threads; None: one per core
    spinning: bool = False

    @classmethod
    def from_env(cls) -> SessionSettings:
        threads = int(os.environ.get(THREADS_ENV) or 0)
        if threads < 0:
            raise ValueError(f"{THREADS_ENV} must be a number of threads (0: one per core), not {threads}")
        return cls(threads=threads or None, spinning=os.environ.get(SPINNING_ENV, "0").strip() == "1")

    def session_options(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1  # the graph runs its nodes in order: no inter-op pool
        spin = "1" if self.spinning else "0"
        options.add_session_config_entry("session.intra_op.allow_spinning", spin)
        options.add_session_config_entry("session.inter_op.allow_spinning", spin)
        return options


# What encoders built from now on use; None: the environment's settings, read when one is built.
_configured: SessionSettings | None = None


def configure_sessions(settings: SessionSettings | None) -> None:
    """Session settings for encoders built after this call in this process (None: back to the
    environment's)."""
    global _configured
    _configured = settings


def configure_for_worker() -> None:
    """For a process that is one of several tagging at once (a worker per core): one intra-op
    thread, no spinning. Call it before the models load."""
    configure_sessions(SessionSettings(threads=1, spinning=False))


def session_settings() -> SessionSettings:
    return _configured or SessionSettings.from_env()


class BranchEncoder:
    # One window per run by default. The int8 graph quantizes activations with ranges taken over
    # the whole run, so in a batch a window's scores moved with its neighbours and their padding (by
    # up to 0.10 in probability on realtrain, enough to flip a domain); alone they are the same in
    # any company. On 2 cores it is also faster, with no padding: 33.5 against 28.6 docs/s.
    def __init__(self, onnx_path: str | Path, tokenizer_path: str | Path, *, batch_size: int = 1, threads: int | None = None):
        import onnxruntime as ort

        settings = session_settings()
        if threads:  # the pipeline's own setting wins over the process's
            settings = SessionSettings(threads=threads, spinning=settings.spinning)
        self.session_settings = settings
        self.session = ort.InferenceSession(str(onnx_path), settings.session_options(), providers=["CPUExecutionProvider"])
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
