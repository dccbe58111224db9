"""The engine's version, recorded in every manifest (a re-run under another version says so)."""

__version__ = "0.1.0"
