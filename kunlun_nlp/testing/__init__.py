"""What a new index or queue backend needs to prove itself: the contracts and synthetic documents.

Needs pytest (the `test` extra): `from kunlun_nlp.testing import IndexContract`.
"""

import pytest

# Plain asserts in the contract get pytest's detailed failure messages, as in a test module.
pytest.register_assert_rewrite("kunlun_nlp.testing.index_contract", "kunlun_nlp.testing.queue_contract")

from kunlun_nlp.testing.index_contract import (  # noqa: E402 - after the rewrite hook
    CorrectionContract,
    CountContract,
    ExportContract,
    FacetContract,
    FilterContract,
    IndexContract,
    LanguageContract,
    NearestContract,
    QuerySyntaxContract,
    ReviewContract,
    ScanContract,
    WriteContract,
)
from kunlun_nlp.testing.queue_contract import QueueContract  # noqa: E402
from kunlun_nlp.testing.synthetic import synthetic_corpus, synthetic_document, synthetic_untagged  # noqa: E402

__all__ = [
    "CorrectionContract",
    "CountContract",
    "ExportContract",
    "FacetContract",
    "FilterContract",
    "IndexContract",
    "LanguageContract",
    "NearestContract",
    "QuerySyntaxContract",
    "QueueContract",
    "ReviewContract",
    "ScanContract",
    "WriteContract",
    "synthetic_corpus",
    "synthetic_document",
    "synthetic_untagged",
]
