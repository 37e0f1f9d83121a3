"""Cross-border RMB reporting platform: receives the reporting record of each posted payment.

Start it with ``python -m examples.platforms.reporting --port 8102 --data-dir DIR``; the API
contract is in ``docs/platforms.md``.
"""

STORE_FILENAME = "reporting.sqlite3"
