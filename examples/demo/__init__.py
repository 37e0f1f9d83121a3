"""``rpa demo``: the two reference scenarios run unattended on the embedded store."""
