"""What a new index backend needs to prove itself: the index contract and synthetic documents.

Needs pytest (the `test` extra): `from kunlun_nlp.testing import IndexContract`.
"""

import pytest

# Plain asserts in the contract get pytest's detailed failure messages, as in a test module.
pytest.register_assert_rewrite("kunlun_nlp.testing.index_contract")

from kunlun_nlp.testing.index_contract import (  # noqa: E402 - after the rewrite hook
    CountContract,
    FacetContract,
    FilterContract,
    IndexContract,
    LanguageContract,
    NearestContract,
    ReviewContract,
    WriteContract,
)
from kunlun_nlp.testing.synthetic import synthetic_corpus, synthetic_document, synthetic_untagged  # noqa: E402

__all__ = [
    "CountContract",
    "FacetContract",
    "FilterContract",
    "IndexContract",
    "LanguageContract",
    "NearestContract",
    "ReviewContract",
    "WriteContract",
    "synthetic_corpus",
    "synthetic_document",
    "synthetic_untagged",
]
