"""Errors that cross module lines: raised by the index backends, caught by triage, the service,
the API and the CLI."""


class IndexUnavailableError(RuntimeError):
    """The backend cannot be reached or refused the write: nothing was stored."""
