"""A tiny ledger for the chaos test: it records every posted entry, duplicates included.

Start it with ``python -m examples.platforms.ledger --port 8103 --data-dir DIR [--slow-ms N]``.
"""

STORE_FILENAME = "ledger.sqlite3"
