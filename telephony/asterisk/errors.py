"""The Asterisk driver's errors."""
from __future__ import annotations

from hotline.errors import OneCallError


class AmiLoginRefused(OneCallError):
    """Asterisk refused the AMI user or secret."""

    error_id = "ami-login-refused"
    http_status = 503


class AmiUnavailable(OneCallError):
    """No logged-in AMI connection to send an action on, or no answer in time."""

    error_id = "ami-unavailable"
    http_status = 503
