"""Every URL Twilio is given, in one place: the webhook paths the blueprint serves and the
absolute URLs (from the public base URL) put into TwiML and REST requests."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from telephony.twilio.twiml import TwimlUrls

PREFIX = "/twilio"
VOICE = "/voice"  # a call comes in to the hotline number
GATHER = "/gather"  # the caller pressed keys or spoke
NO_INPUT = "/no-input"  # a Gather ended with nothing entered
WAIT = "/wait"  # the waiting caller's conference needs hold TwiML
QUEUE_EXIT = "/queue-exit"  # the caller's conference leg ended
STATUS = "/status"  # the hotline number's call status changed
AGENT_ANSWER = "/agent-answer"  # the reserved agent answered
AGENT_STATUS = "/agent-status"  # the agent's leg changed state


@dataclass(frozen=True)
class AgentLegUrls:
    answer: str
    status: str


class TwilioUrls:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.voice = self.url(VOICE)
        self.status = self.url(STATUS)
        self.twiml = TwimlUrls(gather=self.url(GATHER), no_input=self.url(NO_INPUT), wait=self.url(WAIT),
                               queue_exit=self.url(QUEUE_EXIT))

    def url(self, path: str, **query: str) -> str:
        return f"{self.base_url}{PREFIX}{path}" + (f"?{urlencode(query)}" if query else "")

    def agent_leg(self, call_id: str, agent_id: str, leg: str) -> AgentLegUrls:
        """The URLs of one agent leg; `leg` is the name OneCall gave it (`telephony.twilio.legs`)."""
        return AgentLegUrls(answer=self.url(AGENT_ANSWER, call=call_id, agent=agent_id, leg=leg),
                            status=self.url(AGENT_STATUS, call=call_id, agent=agent_id, leg=leg))
