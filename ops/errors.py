"""Operational failures of the CLI (missing tools, missing credentials, AWS says no)."""


class OpsError(Exception):
    """One clear sentence for the operator: what went wrong and what to do about it."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
