"""Built-in do skills. Each skill module is imported here so the registry finds it."""
