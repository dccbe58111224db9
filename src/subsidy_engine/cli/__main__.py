"""`python -m subsidy_engine.cli` runs the `subsidy` command."""

from subsidy_engine.cli.main import main

main()
