"""Tagging with a trained model version never runs torch, but importing spaCy would load it.

spaCy's thinc tries `import torch` when it is first imported (thinc.compat), only to offer torch as
a backend; the shipped model tags with spaCy's own numpy NER and ONNX Runtime. That import was
3.5 of the 8.4 seconds a cold `kunlun-nlp tag` took. thinc treats torch as absent when the import
fails, so inference imports thinc once with torch hidden; `import torch` works again right after,
so a later zero-shot encoder or training in the same process still gets it (only thinc's own
torch wrappers, which none of our components use, stay off in that process).
"""

from __future__ import annotations

import sys


def import_thinc_without_torch() -> bool:
    """Import thinc with torch hidden from it, unless torch is loaded already (then hiding it gains
    nothing) or thinc is (then it has decided). True when thinc was imported without torch.
    While it runs, `import torch` fails in every thread: call it where models load, under the
    lock that keeps two loads apart (KunlunService's), not beside training."""
    if "torch" in sys.modules or "thinc.compat" in sys.modules:
        return False
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        import thinc.compat  # noqa: F401
    finally:
        del sys.modules["torch"]
    return True
