"""The reference scenarios run by ``rpa demo``: each module implements the contract of ``base``."""
