"""rpa-probe: skills that count their calls in files, so tests can see what ran after a crash."""
