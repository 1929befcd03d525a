"""Browser tests: the page and the API's docs in real headless Chromium (Debian's
chromium-headless-shell, `scripts/browser`), driven by Playwright, against a live service."""
