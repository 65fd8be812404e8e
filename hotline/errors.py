"""The application's errors, each a `OneCallError` (stable id, HTTP status, details).

Each class names one failure. `error_id` never changes once published (clients and
dashboards match on it); `http_status` is what the REST API answers with.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from routing.errors import OneCallError

__all__ = ["OneCallError", "ConfigInvalid", "BadRequest", "ImportProblem", "CitizensRefused", "Unauthorized",
           "LoginFailed", "LoginLocked", "NoSuchLockout", "NoSuchCitizen", "TelephonyUnavailable", "TtsUnavailable",
           "TtsVoiceUnknown", "TtsFailed", "SoftphoneUnavailable", "NotYourAgent"]


class ConfigInvalid(OneCallError):
    """The configuration file cannot be used. `problems` lists (field path, reason)."""

    error_id = "config-invalid"
    http_status = 500

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: {path}: {reason}" for path, reason in problems]
        super().__init__("\n".join(lines), details={"problems": [{"field": p, "reason": r} for p, r in problems]})


class BadRequest(OneCallError):
    """A request body or parameter is wrong; `field` names it."""

    error_id = "invalid-request"
    http_status = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", details={"field": field, "reason": reason})
        self.field = field


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong in a citizen import: the line (None for a lone record), field, reason."""

    line: int | None
    field: str
    reason: str

    def text(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.field}: {self.reason}"


class CitizensRefused(BadRequest):
    """A citizen import refused whole; `problems` lists every problem of every line."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        OneCallError.__init__(self, "\n".join(problem.text() for problem in problems),
                              details={"problems": [asdict(problem) for problem in problems]})
        self.problems = problems
        self.field = problems[0].field if problems else ""


class Unauthorized(OneCallError):
    error_id = "unauthorized"
    http_status = 401


class LoginFailed(OneCallError):
    """A desk login with an unknown agent id or a wrong PIN (the two are not told apart)."""

    error_id = "login-failed"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("unknown agent or wrong PIN")


class LoginLocked(OneCallError):
    """Too many wrong PINs for this agent id or from this address: logins are refused until
    `locked_until` (epoch seconds), whatever the PIN."""

    error_id = "login-locked"
    http_status = 429

    def __init__(self, locked_until: float, now: float) -> None:
        self.locked_until = locked_until
        self.retry_after = max(1, int(locked_until - now + 0.999))
        super().__init__(f"too many wrong PINs; try again in {self.retry_after} s",
                         details={"retry_after_seconds": self.retry_after})


class NoSuchLockout(OneCallError):
    error_id = "no-such-lockout"
    http_status = 404


class NoSuchCitizen(OneCallError):
    error_id = "no-such-citizen"
    http_status = 404


class TtsUnavailable(OneCallError):
    """espeak-ng, which renders prompt audio, is not installed or cannot be run."""

    error_id = "tts-unavailable"


class TtsVoiceUnknown(OneCallError):
    """A language's `tts_voice` is not a voice espeak-ng has."""

    error_id = "tts-voice-unknown"


class TtsFailed(OneCallError):
    """espeak-ng ran but gave no usable audio for one prompt."""

    error_id = "tts-failed"


class TelephonyUnavailable(OneCallError):
    """A driver could not reach its telephony back-end (Twilio's API, Asterisk)."""

    error_id = "telephony-unavailable"
    http_status = 503


class SoftphoneUnavailable(OneCallError):
    """The desk's softphone cannot be used: no Twilio API key or TwiML app is configured, or
    the agent's endpoint is a phone number rather than a `client:` identity."""

    error_id = "softphone-unavailable"
    http_status = 404


class NotYourAgent(OneCallError):
    """A desk asked for something of another agent than the one logged in."""

    error_id = "not-your-agent"
    http_status = 403
