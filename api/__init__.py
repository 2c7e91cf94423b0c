"""The HTTP API (FastAPI), and the CLI that serves it."""
