"""The auditor's tools: re-run from a manifest, paid-vs-computed diff, findings, workbooks, publication (公示)."""
