"""One module per view, each with its `router`; registered in api/page/__init__.py."""
