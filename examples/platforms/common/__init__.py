"""Helpers shared by the example platforms: amounts, SQLite, fault injection, serving."""
