"""Errors that cross module lines: raised by the index backends, caught by triage, the service,
the API and the CLI."""


class IndexUnavailableError(RuntimeError):
    """The backend cannot be reached or refused the write: nothing was stored."""


class DocumentsRefusedError(ValueError):
    """The index refused some documents for what they hold (e.g. a token longer than the engine
    keeps); the others of the same write were stored. Bad input, not an outage."""

    def __init__(self, refused: dict[str, str], stored: list[str]) -> None:
        self.refused, self.stored = refused, stored
        examples = "; ".join(f"{doc_id}: {reason}" for doc_id, reason in list(refused.items())[:3])
        super().__init__(
            f"{len(refused)} document(s) refused by the index ({examples}); "
            f"{len(stored)} other(s) of the same request were stored"
        )


class QueueUnavailableError(RuntimeError):
    """The intake queue's storage (SQLite or Redis) cannot be reached: nothing was accepted."""


class WorkersFailingError(RuntimeError):
    """Tagging worker processes keep dying (a model that will not load, a crash in native code):
    restarting them again would only spin. What was queued stays queued."""
