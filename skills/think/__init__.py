"""Built-in think skills. Each skill module is imported here so the registry finds it."""
from skills.think.basics import evaluate as evaluate
from skills.think.basics import require as require
from skills.think.basics import wait as wait
