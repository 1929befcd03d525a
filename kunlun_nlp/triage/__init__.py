"""Triage: case cards (what happened) and a priority with reasons (what to read first)."""
