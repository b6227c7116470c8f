"""Project-specific checks run by ``make lint`` (import-linter contract types)."""
