"""What the Asterisk driver reacts to on AMI: one subscription table, tiny handlers.

| AMI event | meaning for OneCall | core call |
| --- | --- | --- |
| FullyBooted | logged in (again): Asterisk may have restarted | resync with live channels |
| OriginateResponse (Failure) | the agent's phone was not answered / busy / unreachable | call back to the head of its queue |
| Hangup (citizen channel) | the citizen hung up | call ended, agent to wrap-up |
| Hangup (agent leg) | the agent hung up | the call's latest leg only: call ended (or given back) |
| DeviceStateChange, ContactStatus | an agent's phone became unreachable / came back | agent offline / available again |

Events can come late, twice, out of order or not at all (the FastAGI sessions report the
same moments): every handler checks the router's current state and is a no-op when the
moment has already been taken into account. Nothing stays reserved or busy for a channel
that no longer exists: `reconcile` closes whatever the live channel list no longer has.
"""
from __future__ import annotations

import logging

from telephony.asterisk.channels import AsteriskState
from routing import AgentStatus, CallPhase, InvalidTransition, RoutingError

log = logging.getLogger(__name__)

# OriginateResponse Reason: the last control frame seen on the new channel (events.md).
ORIGINATE_REASONS = {"0": "failed", "1": "hung-up", "3": "no-answer", "5": "busy", "8": "unreachable"}
UNREACHABLE_DEVICE_STATES = {"UNAVAILABLE", "INVALID"}
REACHABLE_DEVICE_STATES = {"NOT_INUSE", "INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"}
UNREACHABLE_CONTACT = {"Unreachable", "Removed"}
REACHABLE_CONTACT = {"Reachable", "Created"}


class AsteriskEvents:
    def __init__(self, *, calls, routing, dispatcher, desk_events, state: AsteriskState, devices: dict[str, str],
                 on_fully_booted=None) -> None:
        self._calls = calls
        self._routing = routing
        self._dispatcher = dispatcher
        self._desk_events = desk_events  # ScreenPops: an agent's desk hears of reachability changes
        self._state = state
        self._on_fully_booted = on_fully_booted or (lambda: None)
        self._agent_of_device = {device: agent_id for agent_id, device in devices.items()}
        self.table = {
            "FullyBooted": self.on_fully_booted,
            "OriginateResponse": self.on_originate_response,
            "Hangup": self.on_hangup,
            "DeviceStateChange": self.on_device_state,
            "ContactStatus": self.on_contact_status,
        }

    def dispatch(self, message: dict) -> None:
        handler = self.table.get(message.get("Event"))
        if handler is not None:
            handler(message)

    # -- handlers ---------------------------------------------------------------------
    def on_fully_booted(self, message: dict) -> None:
        self._on_fully_booted()

    def on_originate_response(self, message: dict) -> None:
        if message.get("Response") != "Failure":
            return  # answered: the agent's FastAGI session accepts the call
        leg_id = message.get("ActionID", "")
        leg = self._state.leg(leg_id)
        if leg is None:
            return
        reason = ORIGINATE_REASONS.get(message.get("Reason", ""), "failed")
        log.info("agent %s did not take call %s: %s", leg[1], leg[0], reason)
        if self._state.latest_leg(leg[0]) == leg_id:  # an older ring's failure is not this offer's
            self._calls.agent_missed(leg[0], leg[1], reason)
        self._state.forget_leg(leg_id)

    def on_hangup(self, message: dict) -> None:
        uniqueid = message.get("Uniqueid", "")
        if self._state.is_call(uniqueid):
            self.citizen_gone(uniqueid, "caller-hung-up")
            return
        leg = self._state.leg(uniqueid)
        if leg is not None:
            self.agent_leg_gone(uniqueid, leg[0], leg[1], "agent-hung-up")

    def on_device_state(self, message: dict) -> None:
        state = message.get("State", "")
        reachable = False if state in UNREACHABLE_DEVICE_STATES else True if state in REACHABLE_DEVICE_STATES else None
        self._phone_report(message.get("Device", ""), reachable)

    def on_contact_status(self, message: dict) -> None:
        status = message.get("ContactStatus", "")
        reachable = False if status in UNREACHABLE_CONTACT else True if status in REACHABLE_CONTACT else None
        self._phone_report(f"PJSIP/{message.get('EndpointName') or message.get('AOR', '')}", reachable)

    def _phone_report(self, device: str, reachable: bool | None) -> None:
        agent_id = self._agent_of_device.get(device)
        if agent_id is None or reachable is None:
            return  # not an agent's phone, or a state that says nothing about reachability
        if reachable:
            self.agent_reachable(agent_id)
        else:
            self.agent_unreachable(agent_id)

    # -- moments, shared with resync and the FastAGI sessions ------------------------------
    def citizen_gone(self, call_id: str, reason: str) -> None:
        try:
            agent_id = self._routing.call(call_id).agent_id
        except RoutingError:
            agent_id = None
        self._calls.ended(call_id, reason)
        self._state.forget_call(call_id)
        if agent_id:
            self._keep_unreachable_out(agent_id)

    def agent_leg_gone(self, leg_id: str, call_id: str, agent_id: str, reason: str) -> None:
        """An agent leg is gone. Only the call's latest leg (the one that accepted it, or the
        one ringing now) may end the call or miss the offer; an older leg of the same call
        (rung before a timeout, the agent since rung again) changes nothing."""
        if self._state.latest_leg(call_id) == leg_id:
            self._calls.agent_leg_ended(call_id, agent_id, reason)
        self._state.forget_leg(leg_id)
        self._keep_unreachable_out(agent_id)

    def agent_unreachable(self, agent_id: str) -> None:
        if not self._state.mark_unreachable(agent_id):
            return
        log.warning("agent %s's phone is unreachable: no calls are offered until it is back", agent_id)
        self._keep_unreachable_out(agent_id)

    def _keep_unreachable_out(self, agent_id: str) -> None:
        """An agent whose phone is unreachable is taken out of routing as soon as they are
        available or in wrap-up (on break they are offered nothing; a reserved or busy agent
        is taken out when that call ends)."""
        if not self._state.is_unreachable(agent_id):
            return
        try:
            if self._routing.agent(agent_id).status in (AgentStatus.AVAILABLE, AgentStatus.WRAPUP):
                self._routing.set_status(agent_id, AgentStatus.OFFLINE, "unreachable")
                self._desk_events.notify_desk(agent_id, "status", {"status": AgentStatus.OFFLINE, "reason": "unreachable"})
        except (InvalidTransition, RoutingError):
            pass  # reserved or busy meanwhile: the ring fails or the call ends on its own

    def agent_reachable(self, agent_id: str) -> None:
        if not self._state.mark_reachable(agent_id):
            return
        try:
            agent = self._routing.agent(agent_id)
            if agent.status == AgentStatus.OFFLINE and agent.reason == "unreachable":
                log.info("agent %s's phone is back: available again", agent_id)
                self._dispatcher.dispatch(self._routing.set_status(agent_id, AgentStatus.AVAILABLE))
                self._desk_events.notify_desk(agent_id, "status", {"status": AgentStatus.AVAILABLE})
        except (InvalidTransition, RoutingError):
            pass

    # -- resync -----------------------------------------------------------------------
    def reconcile(self, live_uniqueids: set[str]) -> list[str]:
        """Close every call whose citizen channel, or whose answered agent leg, Asterisk no
        longer has. Returns the call ids closed. Legs still ringing are left to their
        reservation's timeout (the Originate may not have been sent yet)."""
        closed = []
        for call_id in self._state.calls():
            if call_id not in live_uniqueids:
                log.warning("call %s has no channel on Asterisk any more: closing it", call_id)
                self.citizen_gone(call_id, "channel-gone")
                closed.append(call_id)
        for leg_id, (call_id, agent_id) in self._state.legs().items():
            if leg_id in live_uniqueids:
                continue
            try:
                record = self._routing.call(call_id)
            except RoutingError:
                record = None
            if record is None or record.state == CallPhase.ENDED or record.agent_id != agent_id:
                self._state.forget_leg(leg_id)
            elif record.state == CallPhase.CONNECTED:
                log.warning("agent %s's leg of call %s is gone from Asterisk: closing the call", agent_id, call_id)
                self.agent_leg_gone(leg_id, call_id, agent_id, "agent-channel-gone")
                closed.append(call_id)
        return closed
