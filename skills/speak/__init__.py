"""Built-in speak skills. Each skill module is imported here so the registry finds it."""
