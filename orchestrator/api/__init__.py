"""The HTTP API (FastAPI) served by ``rpa serve``: enqueue, items, runs, manual queue, health."""
