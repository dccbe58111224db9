"""subsidy-engine: poverty-relief subsidy eligibility from a household roster and declarative rule files."""

__version__ = "0.1.0"
