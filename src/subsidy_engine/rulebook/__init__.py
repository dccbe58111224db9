"""Rule files (YAML) → a checked, typed Rulebook: file models, the expression language, type checks, loading.

No pandas here: loading a rulebook needs no roster."""
