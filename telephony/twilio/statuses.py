"""Twilio's CallStatus values as OneCall reads them (Twilio's Call resource docs)."""
from __future__ import annotations

# A call in one of these is over.
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# An agent leg that ended in one of these was never answered.
UNANSWERED_LEG_STATUSES = frozenset({"busy", "failed", "no-answer", "canceled"})
# What the ringer's status lookup answers when Twilio has no such call (HTTP 404).
GONE = "gone"
