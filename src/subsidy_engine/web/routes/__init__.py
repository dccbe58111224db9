"""The web app's pages, one module per area (roster uploads and runs, the auditor, administration, sign-in)."""
