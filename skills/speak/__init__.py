"""Built-in speak skills. Each skill module is imported here so the registry finds it."""

from skills.speak.say import say as say
