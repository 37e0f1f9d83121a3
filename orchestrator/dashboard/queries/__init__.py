"""Read-only queries behind the dashboard's pages and JSON API (SQLite and PostgreSQL)."""
