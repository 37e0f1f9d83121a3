"""The workflow author's toolkit: plan, offline runs with fake skills, record and replay,
scaffolding and documentation generated from the skills' code.

Nothing here changes how the engine runs a workflow: offline runs use the real
``RunExecutor`` on a temporary SQLite store with a registry in which chosen skills are
replaced by fakes that keep the skills' parameter and result models.
"""
