"""The two FastAGI scripts Asterisk runs: `hotline` (a citizen's call) and `agent` (the
reserved agent's answered leg).

Dialogue runs over FastAGI rather than AsyncAGI over AMI: each call gets its own TCP
connection, so a slow or busy call never delays the AMI event stream (which every call
and every agent shares), the per-call command/reply exchange needs no correlation ids,
and a caller's hang-up reaches its session directly. The AMI connection keeps the jobs
that concern several calls: ringing agents, phone reachability, hang-ups, resync.

Citizen and agent meet in a ConfBridge room of their own (`hotline.calls.room_name`, the
same name as on Twilio), so an expert can later be added without moving the citizen. The waiting
citizen holds in their own AGI session (music on hold, position announcements) and joins
the room the moment the agent's session has accepted the call.
"""
from __future__ import annotations

import asyncio
import logging

from ivr.actions import Gather, Hangup, Route, Say
from telephony.asterisk.agi import AgiProtocolError, AgiSession, ChannelHungUp
from telephony.asterisk.agi_access import AgiPeers
from telephony.asterisk.dialogue import AgiDialogue, Bridging, PromptFiles
from ivr.events import Event
from ivr.hold import hold_announcement
from ivr.interpreter import Step
from ivr.state import CallState
from telephony.asterisk.events import AsteriskEvents
from telephony.asterisk.hold_watch import HoldWatch
from telephony.asterisk.channels import AsteriskState
from routing import CallPhase, RoutingError

log = logging.getLogger(__name__)

CHANNEL = "asterisk"
RETRY_SECONDS = 2.0  # when even the fallback route fails (Redis down), try again this often


def caller_number(env: dict[str, str]) -> str:
    number = env.get("agi_callerid", "")
    return "" if number in ("", "unknown") else number


class FastAgiScripts:
    def __init__(self, *, calls, routing, dispatcher, state: AsteriskState, events: AsteriskEvents,
                 files: PromptFiles, bridging: Bridging, announce_every: int, peers: AgiPeers) -> None:
        self._peers = peers  # the addresses of the Asterisk allowed to connect
        self._calls = calls
        self._routing = routing
        self._dispatcher = dispatcher
        self._state = state
        self._events = events
        self._files = files
        self._bridging = bridging
        self._announce_every = announce_every
        self.hold_watch = HoldWatch(routing)  # wakes holding callers; the driver runs it
        self.running: set[asyncio.Task] = set()  # one per FastAGI connection, cancelled at shutdown
        self.scripts = {"hotline": self.hotline, "agent": self.agent}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One FastAGI connection from Asterisk."""
        task = asyncio.current_task()
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        peer = writer.get_extra_info("peername")
        if not self._peers.allows(peer):  # refused before a byte is read
            log.warning("refused a FastAGI connection from %s: not an allowed Asterisk address (ONECALL_AGI_ALLOW)",
                        peer[0] if peer else "an unknown address")
            writer.close()
            return
        try:
            session = await AgiSession.accept(reader, writer)
        except AgiProtocolError as exc:
            log.warning("refused a FastAGI connection: %s", exc)
            writer.close()
            return
        script = self.scripts.get(session.script)
        try:
            if script is None:
                log.error("no FastAGI script %r (from %s)", session.script, session.env.get("agi_request"))
            else:
                await script(session)
        except ChannelHungUp:
            pass
        except asyncio.CancelledError:
            pass  # shutting down: end this connection quietly (asyncio's server callback expects a result)
        except Exception:
            log.exception("FastAGI script %s failed on %s", session.script, session.uniqueid)
        finally:
            await session.close()

    # -- the citizen's call -----------------------------------------------------------
    async def hotline(self, session: AgiSession) -> None:
        call_id = session.uniqueid
        self._state.track_call(call_id, session.env["agi_channel"])
        dialogue = AgiDialogue(session, self._files)
        shutting_down = False
        try:
            await dialogue.answer()
            step = self._calls.start(call_id, caller_number(session.env), CHANNEL)
            while step is not None:
                step = await self._next_step(dialogue, step)
        except asyncio.CancelledError:
            # OneCall is shutting down, not the call. A conversation in its room goes on (the
            # AMI Hangup, or the resync after a restart, ends it later). A caller still in the
            # menu or the queue leaves the router, since no session of ours holds them any more:
            # the dialplan dials its fallback when AGI() returns.
            shutting_down = True
            self._hand_to_dialplan(call_id)
            raise
        finally:
            self.hold_watch.release(call_id)
            if not shutting_down:
                self._close(call_id, "caller-hung-up" if session.hung_up.is_set() else "call-finished")

    def _close(self, call_id: str, reason: str) -> None:
        try:
            self._events.citizen_gone(call_id, reason)
            self._dispatcher.hang_up_agent_leg(call_id)  # the agent is not left alone in the room
        except Exception:  # Redis away: the resync after the next login closes it
            log.exception("call %s: could not close it in the router", call_id)

    def _hand_to_dialplan(self, call_id: str) -> None:
        try:
            if self._routing.call(call_id).state != CallPhase.CONNECTED:
                self._events.citizen_gone(call_id, "handed-to-dialplan-fallback")
        except RoutingError:
            self._events.citizen_gone(call_id, "handed-to-dialplan-fallback")
        except Exception:
            log.exception("call %s: could not take it out of the router", call_id)

    async def _next_step(self, dialogue: AgiDialogue, step: Step) -> Step | None:
        """Perform one step's actions; the next step, or None when the call is done."""
        try:
            event = await self._perform(dialogue, step)
            return None if event is None else self._calls.step(step.state, event, CHANNEL)
        except ChannelHungUp:
            raise
        except Exception as exc:  # whatever broke, the caller still reaches a person
            log.exception("call %s: driver error; routing to the fallback queue", step.state.call_id)
            return await self._fallback(dialogue, step.state, exc)

    async def _fallback(self, dialogue: AgiDialogue, state: CallState, error: Exception) -> Step:
        while True:
            try:
                return self._calls.fallback(state, f"driver error: {error!r}", CHANNEL)
            except Exception:
                log.exception("call %s: the fallback route failed too; holding the caller", state.call_id)
                await dialogue.play(Say("system_error", state.language))
                await dialogue.session.wait(None, RETRY_SECONDS)

    async def _perform(self, dialogue: AgiDialogue, step: Step) -> Event | None:
        for action in step.actions:
            if isinstance(action, Say):
                await dialogue.play(action)
            elif isinstance(action, Gather):
                return await dialogue.gather(action)
            elif isinstance(action, Route):
                await self._hold_then_connect(dialogue, step.state.call_id, action.language)
                return None
            elif isinstance(action, Hangup):
                await dialogue.hang_up()
                return None
        return None

    async def _hold_then_connect(self, dialogue: AgiDialogue, call_id: str, language: str) -> None:
        """Music and position announcements until the call is connected (then join its room)
        or ended. The call is read again only when `hold_watch` wakes this caller or an
        announcement is due."""
        woken = self.hold_watch.hold(call_id)
        loop = asyncio.get_running_loop()
        next_announcement, music_on = 0.0, False
        while True:
            woken.clear()  # before the read: a wake after it is kept for the wait below
            try:
                record = self._routing.call(call_id)
            except RoutingError:
                return  # the router no longer has the call: it ended
            self.hold_watch.saw(call_id, record.state)
            if record.state == CallPhase.CONNECTED:
                break
            if record.state == CallPhase.ENDED:
                return
            if loop.time() >= next_announcement:
                if music_on:
                    await dialogue.music(False)
                    music_on = False
                position = self._routing.queue_position(call_id) if record.state == CallPhase.WAITING else None
                announcement = hold_announcement(language, position, record.state == CallPhase.RESERVED)
                if self._files.stem(announcement) is None:  # a position past the recorded ones
                    announcement = Say("please_hold", language)
                await dialogue.play(announcement)
                next_announcement = loop.time() + self._announce_every
            if not music_on:
                await dialogue.music(True, self._bridging.music_class)
                music_on = True
            await dialogue.session.wait(woken, max(0.0, next_announcement - loop.time()))
        if music_on:
            await dialogue.music(False)
        await dialogue.join_room(call_id, self._bridging, as_agent=False)
        await dialogue.hang_up()  # the room ended for the citizen: the agent closed the call

    # -- the agent's answered leg -----------------------------------------------------
    async def agent(self, session: AgiSession) -> None:
        call_id, agent_id = await self._leg_identity(session)
        if not call_id or not agent_id:
            log.error("agent leg %s reached OneCall without ONECALL_CALL/ONECALL_AGENT", session.uniqueid)
            await session.command("HANGUP")
            return
        if self._state.leg(session.uniqueid) != (call_id, agent_id):
            log.warning("refused the agent script on %s: not a leg OneCall rang for call %s and agent %s",
                        session.uniqueid, call_id, agent_id)
            await session.command("HANGUP")
            return
        self._state.answered_leg(session.uniqueid, call_id, agent_id, session.env["agi_channel"])
        dialogue = AgiDialogue(session, self._files)
        language = self._calls.language_of(call_id)
        # Only the call's latest ring may take it: an older leg of an agent rung again answers
        # too late, whatever the reservation says.
        if self._state.latest_leg(call_id) != session.uniqueid or not self._calls.agent_answered(call_id, agent_id):
            await dialogue.play(Say("call_already_taken", language))
            await dialogue.hang_up()
            return
        self.hold_watch.wake(call_id)  # the caller holding in this process joins the room now
        try:
            await dialogue.play(Say("agent_whisper", language))
            await dialogue.join_room(call_id, self._bridging, as_agent=True)
        except ChannelHungUp:
            pass  # the agent hung up, in the whisper or in the room
        self._events.agent_leg_gone(session.uniqueid, call_id, agent_id, "agent-hung-up")
        await dialogue.hang_up()

    async def _leg_identity(self, session: AgiSession) -> tuple[str, str]:
        """The call and agent this leg claims: AGI arguments, else the Originate's variables.
        A claim is only believed for a leg OneCall rang itself: its Uniqueid is the ChannelId
        OneCall chose, recorded for that call and agent when it was rung (`AsteriskState.ring`).
        Whether the call is still reserved for the agent, the accept decides (atomically)."""
        call_id, agent_id = session.env.get("agi_arg_1", ""), session.env.get("agi_arg_2", "")
        if not call_id:
            call_id = (await session.command("GET VARIABLE", "ONECALL_CALL")).data or ""
        if not agent_id:
            agent_id = (await session.command("GET VARIABLE", "ONECALL_AGENT")).data or ""
        return call_id, agent_id

