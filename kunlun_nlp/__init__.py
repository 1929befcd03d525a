"""Kunlun NLP: triage of enforcement reports on food, medicine, environment and IP crime."""

__version__ = "0.1.0"
