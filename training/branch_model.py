"""MiniLM with a tuned classification branch: one pass gives both the embedding and the domains.

The encoder's lower layers are shared and frozen. Above them, the original top layers stay as they
are (so the document embedding is exactly all-MiniLM-L6-v2's, and similar-document search keeps its
meaning), and a copy of those top layers is fine-tuned for the domain and sub-type heads. Heads read
the masked mean of the tuned branch's token states, so a head's logit is the mean of per-token
contributions plus a bias: the contributions come out of the same pass as evidence.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from kunlun_nlp.encoder import default_model_dir, mean_pool


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(batch, seq) 0/1 → (batch, 1, 1, seq) 0/-large, the form eager BERT attention adds."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class BranchedEncoder(nn.Module):
    def __init__(self, n_domains: int, n_subtypes: int, *, tuned_layers: int = 2, dropout: float = 0.1):
        super().__init__()
        from transformers import AutoModel

        base = AutoModel.from_pretrained(default_model_dir(), local_files_only=True, attn_implementation="eager")
        layers = base.encoder.layer
        self.embeddings = base.embeddings
        self.shared = nn.ModuleList(layers[: len(layers) - tuned_layers])
        self.base_top = nn.ModuleList(layers[len(layers) - tuned_layers :])
        self.tuned_top = copy.deepcopy(self.base_top)
        hidden = base.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.domain_head = nn.Linear(hidden, n_domains)
        self.subtype_head = nn.Linear(hidden, n_subtypes)
        for module in (self.embeddings, self.shared, self.base_top):
            module.requires_grad_(False)

    def shared_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Token states after the frozen shared layers (training caches these)."""
        mask = additive_mask(attention_mask, torch.float32)
        hidden = self.embeddings(input_ids=input_ids)
        for layer in self.shared:
            hidden = layer(hidden, mask)
        return hidden

    def branch(self, shared: torch.Tensor, attention_mask: torch.Tensor):
        """Tuned branch on shared states → (domain_logits, subtype_logits, token_contributions)."""
        mask = additive_mask(attention_mask, shared.dtype)
        hidden = shared
        for layer in self.tuned_top:
            hidden = layer(hidden, mask)
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        count = weights.sum(1).clamp(min=1.0)
        tokens = self.dropout(hidden) * weights
        pooled = tokens.sum(1) / count
        # logit_d = w_d · mean_t(h_t) + b_d = sum_t (w_d · h_t) / n + b_d
        contributions = (tokens @ self.domain_head.weight.T) / count.unsqueeze(-1)
        return self.domain_head(pooled), self.subtype_head(pooled), contributions

    def embedding(self, shared: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = additive_mask(attention_mask, shared.dtype)
        hidden = shared
        for layer in self.base_top:
            hidden = layer(hidden, mask)
        return mean_pool(hidden, attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        """The exported graph: (embedding, domain_logits, subtype_logits, token_contributions)."""
        shared = self.shared_states(input_ids, attention_mask)
        domain_logits, subtype_logits, contributions = self.branch(shared, attention_mask)
        return self.embedding(shared, attention_mask), domain_logits, subtype_logits, contributions


BRANCH_FILE = "branch.pt"  # in a model version: what a feedback round continues from
_BRANCH_PARTS = ("tuned_top.", "domain_head.", "subtype_head.")


def save_branch_weights(model: BranchedEncoder, path) -> None:
    """The tuned branch and heads, in fp16 (half the size in git; the shipped graph is int8, too
    lossy to train on). The frozen parts are MiniLM's own and are not stored again."""
    state = {k: v.detach().to(torch.float16).clone() for k, v in model.state_dict().items() if k.startswith(_BRANCH_PARTS)}
    torch.save({"tuned_layers": len(model.tuned_top), "state_dict": state}, path)


def load_branch_weights(model: BranchedEncoder, path) -> None:
    """Put a version's saved branch into `model` (built with the same number of tuned layers)."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved["tuned_layers"] != len(model.tuned_top):
        raise ValueError(f"{path} holds {saved['tuned_layers']} tuned layers; the model has {len(model.tuned_top)}")
    state = {k: v.float() for k, v in saved["state_dict"].items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    wrong = [k for k in missing if k.startswith(_BRANCH_PARTS)] + list(unexpected)
    if wrong:
        raise ValueError(f"{path} does not fit the model: {wrong[:5]}")
