"""Rulebook × persons × period → payment lines: the fact table and the engines (vectorized, rete, dask), explain and the cross-check."""
