"""`onecall call`: a terminal phone that calls a running OneCall exactly as Twilio would.

It posts Twilio's voice webhook parameters, signed with X-Twilio-Signature, follows the
TwiML it gets back (Say, Gather, Pause, Redirect, Dial/Conference, Hangup), asks you for
keys (or takes them from --press), and prints what the citizen hears. It also stands in
for Twilio's REST API (see `devtools.twilio_api`): when OneCall rings the reserved
agent, the simulated agent phone answers, joins the caller's conference, and you see
which agent got the call.
"""
from __future__ import annotations

import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Iterator

import requests
from twilio.request_validator import RequestValidator

from devtools.twilio_api import CreatedCall, TwilioApiStandIn
from telephony.twilio.urls import TwilioUrls


class OneCallUnreachable(Exception):
    """Nothing answers at the server URL the simulator was given."""

    def __init__(self, server_url: str) -> None:
        super().__init__(f"cannot reach OneCall at {server_url}: is `onecall serve` running?")


@dataclass
class CallTranscript:
    call_sid: str
    heard: list[str] = field(default_factory=list)
    agent_endpoint: str | None = None
    agent_heard: list[str] = field(default_factory=list)
    connected: bool = False
    ended_by: str = ""


class SignedPoster:
    """Posts form parameters the way Twilio does, with a valid X-Twilio-Signature."""

    def __init__(self, auth_token: str, account_sid: str, public_url: str | None = None, server_url: str | None = None):
        self._validator = RequestValidator(auth_token)
        self._account_sid = account_sid
        self._public_url = public_url.rstrip("/") if public_url else None
        self._server_url = server_url.rstrip("/") if server_url else None
        self._http = requests.Session()

    def _transport_url(self, url: str) -> str:
        # Behind a proxy Twilio signs the public URL; the simulator posts to the server directly.
        if self._public_url and self._server_url and url.startswith(self._public_url):
            return self._server_url + url[len(self._public_url):]
        return url

    def post(self, url: str, params: dict[str, str]) -> requests.Response:
        params = {"AccountSid": self._account_sid, "ApiVersion": "2010-04-01", **params}
        signature = self._validator.compute_signature(url, params)
        target = self._transport_url(url)
        try:
            return self._http.post(target, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
        except requests.ConnectionError:
            raise OneCallUnreachable(self._server_url or url.split("/twilio/", 1)[0]) from None


class CallSimulator:
    def __init__(self, *, server_url: str, auth_token: str, account_sid: str, caller: str, hotline_number: str,
                 inputs: Iterator[str] | None = None, ask: Callable[[str], str] = input,
                 say: Callable[[str], None] = print, public_url: str | None = None,
                 agent_answers: bool = True, talk_seconds: float | None = 2.0, max_wait_seconds: float = 120.0,
                 time_scale: float = 1.0, wait: Callable[[float], bool] | None = None) -> None:
        self.server_url = server_url.rstrip("/")
        self.urls = TwilioUrls(public_url or server_url)  # what the hotline number is set to call
        self.poster = SignedPoster(auth_token, account_sid, public_url, server_url)
        self.caller = caller
        self.hotline_number = hotline_number
        self.inputs = inputs
        self.ask = ask
        self.say = say
        self.agent_answers = agent_answers
        self.talk_seconds = talk_seconds
        self.max_wait_seconds = max_wait_seconds
        self.time_scale = time_scale  # a <Pause length="20"> lasts 20 x time_scale seconds here
        self.transcript = CallTranscript(call_sid="CA" + secrets.token_hex(16))
        self._agent_joined = threading.Event()
        self._wait = wait or self._agent_joined.wait  # a pause ends early when the agent joins
        self._agent_legs: list[CreatedCall] = []
        self.standin: TwilioApiStandIn | None = None  # answers Twilio API lookups of this call

    # -- the caller's side ----------------------------------------------------------------
    def _caller_params(self, status: str = "in-progress", **extra: str) -> dict[str, str]:
        return {"CallSid": self.transcript.call_sid, "From": self.caller, "To": self.hotline_number,
                "Caller": self.caller, "Called": self.hotline_number, "CallStatus": status,
                "Direction": "inbound", **extra}

    def run(self) -> CallTranscript:
        if self.standin is not None:
            self.standin.inbound[self.transcript.call_sid] = "in-progress"
        reply = self.poster.post(self.urls.voice, self._caller_params("ringing"))
        self._follow(reply)
        return self.transcript

    def _next_input(self, prompt: str) -> str:
        if self.inputs is not None:
            try:
                value = next(self.inputs)
            except StopIteration:
                value = ""
            self.say(f"{prompt}{value}")
            return value
        return self.ask(prompt)

    def _follow(self, reply: requests.Response) -> None:
        while True:
            if reply.status_code != 200:
                self.say(f"!! OneCall answered HTTP {reply.status_code}: {reply.text[:200]}")
                self.transcript.ended_by = f"http-{reply.status_code}"
                return
            next_reply = self._run_document(ET.fromstring(reply.content))
            if next_reply is None:
                return
            reply = next_reply

    def _hear(self, element: ET.Element) -> None:
        text = (element.text or "").strip()
        self.transcript.heard.append(text)
        self.say(f"  ({element.get('language', '')}) {text}")

    def _run_document(self, root: ET.Element) -> requests.Response | None:
        for verb in root:
            if verb.tag == "Say":
                self._hear(verb)
            elif verb.tag == "Pause":
                self._pause(float(verb.get("length", "1")))
            elif verb.tag == "Gather":
                for child in verb:
                    if child.tag == "Say":
                        self._hear(child)
                hint = "keys" + (" or say:<words>" if "speech" in verb.get("input", "") else "")
                entered = self._next_input(f"  [{hint}] > ").strip()
                if entered.startswith("say:"):
                    return self.poster.post(verb.get("action"), self._caller_params(
                        SpeechResult=entered[4:].strip(), Confidence="0.92"))
                if entered:
                    return self.poster.post(verb.get("action"), self._caller_params(Digits=entered))
            elif verb.tag == "Redirect":
                return self.poster.post(verb.text.strip(), self._caller_params())
            elif verb.tag == "Hangup":
                self.transcript.ended_by = "onecall"
                self.say("  -- OneCall hung up --")
                return None
            elif verb.tag == "Dial":
                return self._wait_in_conference(verb)
        self.transcript.ended_by = "end-of-twiml"
        return None

    def _pause(self, length: float) -> float:
        """Spend `length` seconds of call time (scaled by time_scale); returns the call time."""
        self._wait(length * self.time_scale)
        return length

    def _wait_in_conference(self, dial: ET.Element) -> requests.Response | None:
        conference = dial.find("Conference")
        hold_url = conference.get("waitUrl") if conference is not None else None
        self.say("  -- waiting for an agent --")
        waited = 0.0  # call time on hold, as Twilio would spend it
        while not self._agent_joined.is_set() and waited < self.max_wait_seconds:
            hold_url, seconds = self._hold_round(hold_url)
            waited += seconds
        if not self._agent_joined.is_set():
            self.say("  -- gave up waiting --")
            self.transcript.ended_by = "caller-gave-up"
        else:
            self.transcript.connected = True
            self.say(f"  == connected to agent {self.transcript.agent_endpoint} ==")
            if self.talk_seconds is None:
                self.ask("  (talking; press Enter to hang up) ")
            else:
                time.sleep(self.talk_seconds)
            self.transcript.ended_by = "caller"
        self.hang_up(dial.get("action"))
        return None

    def _hold_round(self, hold_url: str | None) -> tuple[str | None, float]:
        """Play one hold document as Twilio does (its Says, then its Pauses); returns the URL of the
        next round (Twilio fetches the wait URL again when a document ends) and the call time spent."""
        if not hold_url:
            return None, self._pause(1.0)
        seconds, next_url = 0.0, hold_url
        for verb in ET.fromstring(self.poster.post(hold_url, self._caller_params()).content):
            if self._agent_joined.is_set():
                break
            if verb.tag == "Say":
                self._hear(verb)
            elif verb.tag == "Pause":
                seconds += self._pause(float(verb.get("length", "1")))
            elif verb.tag == "Redirect":
                next_url = verb.text.strip()
                break
        return next_url, seconds or self._pause(1.0)  # never faster than a second a round

    def hang_up(self, dial_action: str | None = None) -> None:
        """The citizen hangs up: Twilio ends the conference leg, then reports the call completed."""
        if self.standin is not None:
            self.standin.inbound[self.transcript.call_sid] = "completed"
        if dial_action:
            self.poster.post(dial_action, self._caller_params("completed", DialCallStatus="completed"))
        self.poster.post(self.urls.status, self._caller_params("completed", CallDuration="30"))
        for leg in self._agent_legs:
            if leg.status_callback:
                self.poster.post(leg.status_callback, self._agent_params(leg, "completed"))

    # -- the agent's phone (rung through the Twilio API stand-in) ---------------------------
    def _agent_params(self, leg: CreatedCall, status: str) -> dict[str, str]:
        return {"CallSid": leg.sid, "From": leg.from_, "To": leg.to, "CallStatus": status,
                "Direction": "outbound-api", "ParentCallSid": ""}

    def agent_phone_rings(self, leg: CreatedCall) -> None:
        self._agent_legs.append(leg)
        self.say(f"  >> OneCall rings agent {leg.to}")
        if leg.status_callback:
            self.poster.post(leg.status_callback, self._agent_params(leg, "ringing"))
        if not self.agent_answers:
            self.say(f"  >> {leg.to} does not answer")
            self._agent_legs.remove(leg)
            if leg.status_callback:
                self.poster.post(leg.status_callback, self._agent_params(leg, "no-answer"))
            return
        answer = self.poster.post(leg.url, self._agent_params(leg, "in-progress"))
        document = ET.fromstring(answer.content)
        for verb in document:
            if verb.tag == "Say":
                self.transcript.agent_heard.append((verb.text or "").strip())
        conference = document.find("Dial/Conference")
        if conference is not None and conference.text == f"oc-{self.transcript.call_sid}":
            self.transcript.agent_endpoint = leg.to
            self._agent_joined.set()
        else:
            self.say(f"  >> {leg.to} was told: {' '.join(self.transcript.agent_heard[-1:])}")


def simulate_call(*, server_url: str, auth_token: str, account_sid: str, caller: str, hotline_number: str,
                  standin_port: int, **options) -> CallTranscript:
    """One simulated call, with the Twilio API stand-in listening for the agent leg."""
    simulator = CallSimulator(server_url=server_url, auth_token=auth_token, account_sid=account_sid, caller=caller,
                              hotline_number=hotline_number, **options)
    standin = TwilioApiStandIn(account_sid, auth_token, port=standin_port, on_call_created=simulator.agent_phone_rings)
    simulator.standin = standin
    standin.start()
    try:
        return simulator.run()
    finally:
        standin.stop()
