"""File → validated persons and rejects: the roster's columns, reading xlsx/CSV/Parquet, cell and row checks."""
