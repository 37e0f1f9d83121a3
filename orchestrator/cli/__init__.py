"""The ``rpa`` command line: a thin adapter over ``orchestrator.bootstrap``."""
