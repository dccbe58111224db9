"""The `subsidy` command: the only place where errors become exit codes."""
