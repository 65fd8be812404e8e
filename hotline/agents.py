"""What an agent (on the desk) or an operator (through the API) does to an agent: set a
status, finish or extend wrap-up, close the last call with its outcome, look up and
identify an unknown caller, log out. Each is one method here, so the desk and the API
share the rules and the dispatch that follows."""
from __future__ import annotations

import time
from dataclasses import asdict
from typing import Callable

from hotline.errors import BadRequest, NoSuchCitizen, SoftphoneUnavailable
from hotline.profile import AGENT_VERIFIED, build_profile, department_names
from routing import SETTABLE_STATUSES, AgentState, AgentStatus, CallPhase, Reservation, RoutingError

SEARCH_FIELDS = ("name", "birth_year", "phone", "registry_number")


class AgentDesk:
    def __init__(self, *, routing, dispatcher, calls, pops, registry, outcomes, views, skills, default_language: str,
                 wrapup_extension: float = 60.0, voice_tokens=None, clock: Callable[[], float] = time.time) -> None:
        self._routing = routing
        self._views = views  # hotline.audit.ProfileViews: every profile shown is recorded
        self._dispatcher = dispatcher
        self._calls = calls
        self._pops = pops
        self._registry = registry
        self._outcomes = outcomes  # hotline.outcomes.CallOutcomes: the last call until its outcome is saved
        self._skills = skills  # department names for profiles looked up by an operator or the agent
        self._default_language = default_language
        self._wrapup_extension = wrapup_extension
        self._voice_tokens = voice_tokens  # the Twilio driver's VoiceTokens; None: no softphone configured
        self._clock = clock

    def set_status(self, agent_id: str, status: str) -> tuple[AgentState, Reservation | None]:
        """Set a status an agent may set by hand; going available may reserve a waiting call
        for them at once (popped and rung before this returns)."""
        if status not in SETTABLE_STATUSES:
            raise BadRequest("status", f"must be one of {', '.join(SETTABLE_STATUSES)}")
        reservation = self._routing.set_status(agent_id, status)
        self._dispatcher.dispatch(reservation)
        return self._routing.agent(agent_id), reservation

    def finish_wrapup(self, agent_id: str) -> Reservation | None:
        """The agent is ready before their wrap-up ran out."""
        reservation = self._routing.finish_wrapup(agent_id)
        self._dispatcher.dispatch(reservation)
        return reservation

    def log_out(self, agent_id: str) -> None:
        try:
            self._routing.set_status(agent_id, AgentStatus.OFFLINE)
        except RoutingError:
            pass  # on a call: the agent stays on it; the state shows on the next login

    def extend_wrapup(self, agent_id: str) -> float:
        """More time to finish the note (the desk's "extend"); returns the new deadline."""
        return self._routing.extend_wrapup(agent_id, self._wrapup_extension)

    def snapshot(self, agent_id: str) -> dict:
        """The agent, the call on their desk and the call whose outcome they still owe.

        A ringing or connected call shows its pop; otherwise the desk keeps showing the last
        answered call until its outcome is saved, whatever the wrap-up timer did. A reservation
        that timed out or was given back leaves the agent on break, its pop hidden."""
        agent = self._routing.agent(agent_id)
        last = self._outcomes.last_call(agent_id)
        pop = self._pops.current(agent_id) if agent.status in (AgentStatus.RESERVED, AgentStatus.BUSY) else None
        if last is not None and (pop is None or pop["call"]["id"] == last["call_id"]):
            pop = last["pop"]  # the kept copy, with the caller the agent identified
        self._views.pop_shown(pop, "desk")
        deadline = self._routing.wrapup_deadline(agent_id) if agent.status == AgentStatus.WRAPUP else None
        return {"agent": asdict(agent), "pop": pop, "outcome_due": _outcome_due(last, pop),
                "wrapup_deadline": deadline, "now": self._clock()}

    def close_call(self, agent_id: str, note: str, call_id: str | None = None) -> None:
        """End the agent's last answered call (if still connected) and record its outcome."""
        note = note.strip()
        if not note:
            raise BadRequest("note", "상담 결과를 입력하세요 / write what was done for the citizen")
        record = self._outcomes.last_call(agent_id)
        if record is None:
            raise BadRequest("call", self._nothing_to_close(agent_id))
        if call_id and call_id != record["call_id"]:
            raise BadRequest("call_id", "이미 종료되었거나 바뀐 통화입니다 / is not the call on your desk any more")
        self._hang_up_if_connected(record["call_id"])
        if not self._outcomes.save(agent_id, record, note):
            raise BadRequest("call", "이 통화의 결과는 이미 저장되었습니다 / this call's outcome is already recorded")
        pop = self._pops.current(agent_id)
        if pop is not None and pop["call"]["id"] == record["call_id"]:
            self._pops.clear(agent_id)

    def _nothing_to_close(self, agent_id: str) -> str:
        if self._pops.current(agent_id) and self._routing.agent(agent_id).status == AgentStatus.RESERVED:
            return "전화를 받은 뒤에 종료할 수 있습니다 / answer the call before closing it"
        return "종료할 통화가 없습니다 / there is no call on your desk to close"

    def _hang_up_if_connected(self, call_id: str) -> None:
        try:
            state = self._routing.call(call_id).state
        except RoutingError:
            return  # ended long ago: nothing to hang up
        if state == CallPhase.CONNECTED:
            self._dispatcher.hang_up_agent_leg(call_id)
            self._calls.ended(call_id, "agent-closed")

    def has_softphone(self, agent_id: str) -> bool:
        """Whether the agent's desk runs a softphone: one is configured and they are rung on it."""
        return self._voice_tokens is not None and self._routing.agent(agent_id).endpoint.startswith("client:")

    def voice_token(self, agent_id: str) -> dict:
        """A Twilio Voice access token for the agent's softphone identity."""
        if self._voice_tokens is None:
            raise SoftphoneUnavailable("소프트폰이 설정되지 않았습니다 / no Twilio API key and TwiML app are configured "
                                       "(TWILIO_API_KEY, TWILIO_API_SECRET, TWILIO_TWIML_APP_SID)")
        return self._voice_tokens.for_endpoint(self._routing.agent(agent_id).endpoint)

    def search_citizens(self, agent_id: str, query: dict) -> list[dict]:
        """Citizens matching what an unidentified caller told the agent (name and birth year,
        a phone or a registry number), as short summaries to choose from; each one shown is
        recorded as seen by the agent."""
        found = self._registry.search(**_search_terms(query))
        for record in found:
            self._views.record(record["id"], viewer=agent_id, surface="search")
        return [_summary(record) for record in found]

    def identify_caller(self, agent_id: str, call_id: str, citizen_id: str) -> None:
        """The agent found the caller in the registry: the call (and its outcome) is theirs."""
        record = self._outcomes.last_call(agent_id)
        if record is None or record["call_id"] != call_id:
            raise BadRequest("call_id", "받은 통화에만 발신자를 지정할 수 있습니다 / is not the call you answered")
        pop = record["pop"]
        call = dict(pop["call"], verification=AGENT_VERIFIED)
        names = department_names(self._skills, call.get("language") or self._default_language)
        citizen = build_profile(self._registry, citizen_id, AGENT_VERIFIED, call.get("caller", ""), names)
        if not citizen["identified"]:
            raise NoSuchCitizen(f"no citizen with id '{citizen_id}'")
        if not self._outcomes.replace_pop(agent_id, record, dict(pop, call=call, citizen=citizen)):
            raise BadRequest("call_id", "이미 종료된 통화입니다 / the call's outcome was recorded meanwhile")
        self._views.record(citizen_id, viewer=agent_id, surface="identify", call_id=call_id)

    def citizen_profile(self, citizen_id: str, address: str = "") -> dict:
        """A citizen's profile as agents see it, looked up by an operator (404 when unknown);
        every lookup is recorded with the operator's client address."""
        self._registry.get(citizen_id)
        self._views.record(citizen_id, viewer="api", surface="api", address=address)
        names = department_names(self._skills, self._default_language)
        return build_profile(self._registry, citizen_id, "lookup", "", names)


def _outcome_due(last: dict | None, shown: dict | None) -> dict | None:
    """The call whose outcome the desk's form saves, and whether it is the one shown."""
    if last is None:
        return None
    call = last["pop"]["call"]
    return {"call_id": last["call_id"], "answered_at": last["answered_at"], "caller": call.get("caller", ""),
            "shown": shown is not None and shown["call"]["id"] == last["call_id"]}


def _search_terms(query: dict) -> dict:
    terms = {name: str(query.get(name) or "").strip() for name in SEARCH_FIELDS}
    if terms["birth_year"] and not terms["birth_year"].isdigit():
        raise BadRequest("birth_year", "출생연도는 숫자 네 자리입니다 / must be a year such as 1951")
    return terms


def _summary(record: dict) -> dict:
    return {"id": record["id"], "name": record["name"], "birth_year": record.get("birth_year"),
            "address": record.get("address")}
