"""What an import found, decided and could not carry over: printed by the command, asserted by the tests."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    found: list[str] = field(default_factory=list)
    """One line per thing read: an API, a table, the user pool."""
    secrets: list[str] = field(default_factory=list)
    """Per compose secret: which route it takes and why."""
    warnings: list[str] = field(default_factory=list)
    """Behaviour that changes: Amplify quirks, environment variables no longer set, values to fill in."""
    cannot: list[str] = field(default_factory=list)
    """What has no equivalent in the new stack, one line each."""
    next_steps: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [self.found[0], *(f"  {line}" for line in self.found[1:])] if self.found else []
        for title, items in (("secrets:", self.secrets), ("warnings:", self.warnings),
                             ("cannot come across (do it by hand, or leave it in Amplify):", self.cannot)):
            if items:
                out.append(title)
                out.extend(f"  - {item}" for item in items)
        return out
