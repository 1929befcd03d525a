"""Human labels: corrections of indexed documents and imported labeled samples, stored with their
history (LabelStore), applied over the model's tags (apply_correction_record), read out for
training (LabelStore.training_samples) and export, and what to label next (label_next)."""

from kunlun_nlp.labels.correction import Correction, SpanOp, apply_correction_record, latest_label, merge
from kunlun_nlp.labels.imports import LabelImportError, ParsedLabels, parse_labels, read_labels
from kunlun_nlp.labels.next import Candidate, label_next, thresholds_by_model
from kunlun_nlp.labels.samples import TRAINED_ENTITY_LABELS, LabeledSample
from kunlun_nlp.labels.spans import find_spans
from kunlun_nlp.labels.store import ImportReport, LabelStore

__all__ = [
    "TRAINED_ENTITY_LABELS",
    "Candidate",
    "Correction",
    "ImportReport",
    "LabelImportError",
    "LabelStore",
    "LabeledSample",
    "ParsedLabels",
    "SpanOp",
    "apply_correction_record",
    "find_spans",
    "label_next",
    "latest_label",
    "merge",
    "parse_labels",
    "read_labels",
    "thresholds_by_model",
]
