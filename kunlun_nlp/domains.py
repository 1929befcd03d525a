"""The four crime domains of the Kunlun campaigns."""

from enum import Enum


class Domain(str, Enum):
    FOOD = "FOOD"
    MEDICINE = "MEDICINE"
    ENVIRONMENT = "ENVIRONMENT"
    INTELLECTUAL_PROPERTY = "INTELLECTUAL_PROPERTY"


DOMAIN_LABELS: tuple[str, ...] = tuple(d.value for d in Domain)
