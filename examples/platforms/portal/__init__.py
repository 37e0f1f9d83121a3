"""Core banking portal: a server-rendered web app where inbound credits are keyed in.

Start it with ``python -m examples.platforms.portal --port 8101 --data-dir DIR``; the UI contract
(labels, ids, routes) is in ``docs/platforms.md``.
"""

STORE_FILENAME = "portal.sqlite3"
