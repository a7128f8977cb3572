"""Scripts run inside a generated project's environment (by path, not imported)."""
