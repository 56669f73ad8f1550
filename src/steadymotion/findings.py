"""Findings: what preflight checks and the prompt linter report, in one shape.

A finding is ``{code, severity, message, fix, time_ranges}``: a stable machine code
(``FRAMING_MISMATCH``), how bad it is (``info`` < ``warn`` < ``error``), a sentence saying what was
measured, a sentence saying what to do, and the stretches of the reference video it concerns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum


class Severity(str, Enum):
    INFO = "info"
    WARN = "warn"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warn": 1, "error": 2}[self.value]


@dataclass
class Finding:
    """One observation about the inputs.

    Attributes
    ----------
    code : str
        Stable identifier, e.g. ``"TURN_AWAY"``.
    severity : Severity
    message : str
        What was found, with the number that was measured.
    fix : str
        What the user should do about it.
    time_ranges : list of [start_s, end_s]
        Where in the reference video it happens (empty when it concerns the whole input).
    """

    code: str
    severity: Severity
    message: str
    fix: str = ""
    time_ranges: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["severity"] = self.severity.value
        d["time_ranges"] = [[round(a, 2), round(b, 2)] for a, b in self.time_ranges]
        return d


def worst(findings: list[Finding]) -> Severity | None:
    """The most severe level among ``findings`` (``None`` when there are none)."""
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information; stable within a level."""
    return sorted(findings, key=lambda f: -f.severity.rank)


@dataclass
class FindingsReport:
    """What preflight and the prompt linter return: findings, worst first, and a verdict.

    Subclasses add what they measured and extend :meth:`to_dict`.
    """

    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No error finding (warnings and information may remain)."""
        return worst(self.findings) is not Severity.ERROR

    @property
    def worst(self) -> Severity | None:
        return worst(self.findings)

    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    def to_dict(self) -> dict:
        return {"version": 1, "ok": self.ok, "findings": [f.to_dict() for f in self.findings]}
