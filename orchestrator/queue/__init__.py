"""Work queue, bots, runners and triggers: turns workflows into unattended digital employees."""
