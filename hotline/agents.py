"""What an agent (on the desk) or an operator (through the API) does to an agent: set a
status, finish wrap-up, close the call on the desk with its outcome, log out. Each is one
method here, so the desk and the API share the rules and the dispatch that follows."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone

from hotline.citizens import Consultation
from hotline.errors import BadRequest, NoSuchCitizen
from hotline.profile import build_profile, department_names
from routing import ON_A_CALL, SETTABLE_STATUSES, AgentState, AgentStatus, CallPhase, Reservation, RoutingError


class AgentDesk:
    def __init__(self, *, routing, dispatcher, calls, pops, registry, views, skills, default_language: str) -> None:
        self._routing = routing
        self._views = views  # hotline.audit.ProfileViews: every profile shown is recorded
        self._dispatcher = dispatcher
        self._calls = calls
        self._pops = pops
        self._registry = registry
        self._skills = skills  # department names for profiles looked up by an operator
        self._default_language = default_language

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

    def snapshot(self, agent_id: str) -> dict:
        """The agent and the pop on their desk; a pop is shown only while it is theirs to handle
        (a reservation that timed out or was given back leaves the agent on break, pop hidden)."""
        agent = self._routing.agent(agent_id)
        pop = self._pops.current(agent_id) if agent.status in ON_A_CALL else None
        self._views.pop_shown(pop, "desk")
        return {"agent": asdict(agent), "pop": pop}

    def close_call(self, agent_id: str, note: str) -> None:
        """End the agent's current call (if still connected) and record its outcome."""
        note = note.strip()
        if not note:
            raise BadRequest("note", "write what was done for the citizen")
        pop = self._pops.current(agent_id)
        if pop is None:
            raise BadRequest("call", "there is no call on your desk to close")
        call_id = pop["call"]["id"]
        record = self._routing.call(call_id)
        if record.state == CallPhase.RESERVED:
            raise BadRequest("call", "answer the call before closing it")
        if record.state == CallPhase.CONNECTED:
            self._dispatcher.hang_up_agent_leg(call_id)
            self._calls.ended(call_id, "agent-closed")
        self._record_outcome(agent_id, pop, note)
        self._pops.clear(agent_id)

    def _record_outcome(self, agent_id: str, pop: dict, note: str) -> None:
        citizen = pop.get("citizen") or {}
        if not citizen.get("identified"):
            return
        consultation = Consultation(at=datetime.now(timezone.utc), department=pop["call"]["skill"],
                                    agent=agent_id, summary=note)
        try:
            self._registry.add_consultation(citizen["id"], consultation)
        except NoSuchCitizen:
            pass

    def citizen_profile(self, citizen_id: str, address: str = "") -> dict:
        """A citizen's profile as agents see it, looked up by an operator (404 when unknown);
        every lookup is recorded with the operator's client address."""
        self._registry.get(citizen_id)
        self._views.record(citizen_id, viewer="api", surface="api", address=address)
        names = department_names(self._skills, self._default_language)
        return build_profile(self._registry, citizen_id, "lookup", "", names)
