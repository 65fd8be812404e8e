"""The Asterisk driver process: owns the AMI connection, serves FastAGI, places AMI
actions that any OneCall process asked for through Redis.

Only one process may own an Asterisk's AMI connection (two would both originate every
ring). Ownership is a Redis lease, not an in-process lock: a second `onecall asterisk` for
the same Asterisk stands by and takes over when the owner's lease lapses.
"""
from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import socket
import time
import uuid
from typing import Callable

import redis
import redis.asyncio

from hotline.audio.render import PLACEHOLDER_MAX
from routing import CallPhase, RoutingError
from routing.scripts import RELEASE_LEASE, RENEW_LEASE
from telephony.asterisk.agi_access import AgiPeers
from telephony.asterisk.agi_scripts import CHANNEL, FastAgiScripts
from telephony.asterisk.ami import AmiConnection
from telephony.asterisk.channels import AsteriskState
from telephony.asterisk.dialogue import Bridging, PromptFiles
from telephony.asterisk.errors import AmiUnavailable
from telephony.asterisk.events import AsteriskEvents
from telephony.asterisk.ringer import AsteriskRinger

log = logging.getLogger(__name__)

LEASE_SECONDS = 10.0
REQUEST_POLL_SECONDS = 1.0
STOP_WAIT_SECONDS = 2 * REQUEST_POLL_SECONDS  # how long close() waits for its tasks to end
# A ring asked for this recently is for a live reservation (a late one, e.g. queued while the
# AMI connection was down, is checked against the router first; the agent's FastAGI session
# refuses a call no longer theirs anyway).
FRESH_REQUEST_SECONDS = 2.0


def agent_devices(config) -> dict[str, str]:
    """agent id -> the phone AMI rings for them (`asterisk_device`), for agents that have one."""
    return {agent.id: agent.asterisk_device for agent in config.agents if agent.asterisk_device}


class AsteriskDriver:
    def __init__(self, *, config, calls, routing, dispatcher, pops, ringer: AsteriskRinger, state: AsteriskState,
                 redis_client, async_redis: Callable[[], redis.asyncio.Redis], ami_settings) -> None:
        self._config = config
        self._calls = calls
        self._routing = routing
        self._dispatcher = dispatcher
        self._ringer = ringer
        self._redis = redis_client
        self._ami_settings = ami_settings
        self._async_redis = async_redis  # opens the asyncio client the AMI requests are read with
        self.state = state
        self.events = AsteriskEvents(calls=calls, routing=routing, dispatcher=dispatcher, desk_events=pops,
                                     state=state, devices=agent_devices(config),
                                     on_fully_booted=self.schedule_resync)
        sounds_dir = config.asterisk.sounds_dir or str(config.prompt_audio_dir.resolve())
        self.scripts = FastAgiScripts(
            calls=calls, routing=routing, dispatcher=dispatcher, state=state, events=self.events,
            files=PromptFiles(sounds_dir, PLACEHOLDER_MAX),
            bridging=Bridging(config.asterisk.bridge_profile, config.asterisk.caller_profile,
                              config.asterisk.agent_profile, config.asterisk.music_class),
            announce_every=config.routing.wait_announcement_seconds, peers=AgiPeers(ami_settings.agi_allow))
        self._lease_key = state.keys.asterisk_owner(ami_settings.host, ami_settings.port)
        self._renew_lease = redis_client.register_script(RENEW_LEASE)
        self._release_lease = redis_client.register_script(RELEASE_LEASE)
        self._token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tasks: list[asyncio.Task] = []
        self._resync: asyncio.Task | None = None
        self._ring_tasks: set[asyncio.Task] = set()  # started by perform_now: Originate answers, hang-ups
        self.ami: AmiConnection | None = None
        self.agi_server: asyncio.AbstractServer | None = None
        self.stopped = asyncio.Event()
        self.resyncs = 0  # completed resyncs (tests and logs)

    # -- life cycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Serve FastAGI, become the AMI owner, log in. Raises AmiLoginRefused at once on a
        wrong user or secret."""
        s = self._ami_settings
        self.agi_server = await asyncio.start_server(self.scripts.serve, s.agi_host, s.agi_port)
        log.info("FastAGI listening on %s:%s, for connections from %s", s.agi_host, self.agi_port,
                 ", ".join(s.agi_allow))
        self._tasks = [asyncio.create_task(self.scripts.hold_watch.run())]
        await self._become_owner()
        self.ami = AmiConnection(host=s.host, port=s.port, username=s.username, secret=s.secret,
                                 on_event=self.events.dispatch, on_login=self.schedule_resync,
                                 action_timeout=self._config.asterisk.ami_action_timeout_seconds)
        self.ami.connect()
        try:
            await self.ami.first_login
        except Exception:
            await self.close()
            raise
        self._tasks += [asyncio.create_task(self._keep_lease()), asyncio.create_task(self._take_requests())]
        self._serve_rings_of_this_process(asyncio.get_running_loop())
        gc.freeze()  # what exists after start-up lives as long as the process: keep it out of collections

    def _serve_rings_of_this_process(self, loop: asyncio.AbstractEventLoop) -> None:
        """Rings asked for in this process skip the Redis list (one round trip less). One asked
        for on the driver's own loop (a caller's FastAGI task reserving an agent) is written to
        AMI before the ringer returns, so the phone does not wait for that task's next step."""
        def owner_here(request: dict) -> None:
            try:
                on_this_loop = asyncio.get_running_loop() is loop
            except RuntimeError:  # a thread without a loop (a sweeper, a pool thread)
                on_this_loop = False
            if on_this_loop:
                self.perform_now(request)
            else:
                asyncio.run_coroutine_threadsafe(self.perform(request), loop)

        self._ringer.hand_over_to(owner_here)
        self._dispatcher.register_ringer(CHANNEL, self._ringer, inline=True)

    @property
    def agi_port(self) -> int:
        return self.agi_server.sockets[0].getsockname()[1] if self.agi_server else 0

    async def run(self) -> None:
        await self.start()
        try:
            await self.stopped.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        self.stopped.set()
        self._ringer.hand_over_to(None)
        self._dispatcher.register_ringer(CHANNEL, self._ringer, inline=False)
        pending = self._tasks + list(self._ring_tasks) + ([self._resync] if self._resync else [])
        for task in pending:
            task.cancel()
        if pending:
            # Bounded: a task that swallows its cancellation must not keep OneCall from stopping.
            _, stuck = await asyncio.wait(pending, timeout=STOP_WAIT_SECONDS)
            for task in stuck:
                log.warning("stopping without waiting for %s", task.get_coro())
        if self.ami is not None:
            self.ami.close()
        if self.agi_server is not None:
            self.agi_server.close()
        sessions = list(self.scripts.running)
        for session in sessions:
            session.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        self._release_lease(keys=[self._lease_key], args=[self._token])

    # -- ownership --------------------------------------------------------------------
    async def _become_owner(self) -> None:
        told = False
        while not self._redis.set(self._lease_key, self._token, nx=True, px=int(LEASE_SECONDS * 1000)):
            if not told:
                log.info("AMI of %s is owned by %s; standing by", self._ami_settings.host,
                         self._redis.get(self._lease_key))
                told = True
            await asyncio.sleep(LEASE_SECONDS / 3)

    async def _keep_lease(self) -> None:
        """Renew the lease; stop when it is lost or could not be renewed before it lapsed
        (another process may own the AMI connection by then)."""
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                held = self._renew_lease(keys=[self._lease_key], args=[self._token, int(LEASE_SECONDS * 1000)])
            except redis.RedisError as exc:
                if time.monotonic() - renewed < LEASE_SECONDS:
                    log.warning("could not renew the AMI lease (%s); retrying", exc)
                    continue
                held = False
            if not held:
                log.error("lost the AMI ownership of %s; stopping", self._ami_settings.host)
                self.stopped.set()
                return
            renewed = time.monotonic()

    # -- resync -----------------------------------------------------------------------
    def schedule_resync(self) -> None:
        if self._resync is None or self._resync.done():
            self._resync = asyncio.get_running_loop().create_task(self.resync())

    async def resync(self) -> list[str]:
        """Compare what Redis holds with Asterisk's live channels and close the difference."""
        try:
            listing = await self.ami.action({"Action": "CoreShowChannels"}, as_list=True)
        except AmiUnavailable as exc:
            log.warning("resync skipped: %s", exc.message)
            return []
        live = {m.get("Uniqueid") for m in listing if m.get("Event") == "CoreShowChannel"}
        closed = self.events.reconcile(live)
        self.resyncs += 1
        log.info("resynced with Asterisk: %d live channels, %d calls closed", len(live), len(closed))
        return closed

    # -- AMI actions asked for through Redis ------------------------------------------------
    async def _take_requests(self) -> None:
        client = self._async_redis()
        redis_was_away = False
        try:
            # Also ends on `stopped`: redis.asyncio can swallow a cancellation that lands while a
            # BLPOP is blocked, and the task would then loop on after close() cancelled it.
            while not self.stopped.is_set():
                try:
                    item = await client.blpop([self.state.requests_key], timeout=REQUEST_POLL_SECONDS)
                except redis.RedisError as exc:
                    log.warning("cannot read AMI requests from Redis (%s); retrying", exc)
                    redis_was_away = True
                    await asyncio.sleep(REQUEST_POLL_SECONDS)
                    continue
                if redis_was_away:
                    redis_was_away = False
                    self._redis_is_back()
                if item is not None:
                    await self._perform_queued(item[1])
        finally:
            await client.aclose()

    def _redis_is_back(self) -> None:
        """Hang-ups that came while Redis was away could not be written down: compare with
        Asterisk's live channels, as after an AMI reconnect."""
        log.info("Redis is back: resyncing with Asterisk")
        self.schedule_resync()

    async def _perform_queued(self, raw: str) -> None:
        try:
            request = json.loads(raw)
        except ValueError:
            log.error("skipped an AMI request that is not JSON: %r", raw[:200])
            return
        await self.perform(request)

    async def perform(self, request: dict) -> None:
        try:
            if request.get("op") == "originate":
                fresh = time.time() - float(request.get("asked", 0)) < FRESH_REQUEST_SECONDS
                await self._originate(request["leg"], request["call"], request["agent"], request["device"], fresh)
            elif request.get("op") == "hangup":
                await self._hang_up(request["leg"])
            else:
                log.error("unknown AMI request %r", request)
        except (KeyError, TypeError, ValueError):
            log.error("malformed AMI request %r", request)
        except Exception:  # a Redis outage, a bug: the next request must still be served
            log.exception("AMI request %r failed", request)

    def perform_now(self, request: dict) -> None:
        """On the driver's loop: write a ring's Originate before returning (the ring was just
        asked for, so it is fresh). Asterisk's answer, a hang-up, or a ring while AMI is down
        is handled by a task, as `perform` does: giving a call back re-dispatches it, and doing
        that here, inside the dispatch, would recurse through every free agent."""
        if request.get("op") == "originate":
            try:
                answer = self._start_originate(request["leg"], request["call"], request["agent"],
                                               request["device"])
            except AmiUnavailable:
                pass  # perform() below meets the same and gives the call back
            except Exception:
                log.exception("AMI request %r failed", request)
                return
            else:
                self._spawn(self._check_originate(answer, request["leg"], request["call"], request["agent"],
                                                  request["device"]))
                return
        self._spawn(self.perform(request))

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._ring_tasks.add(task)
        task.add_done_callback(self._ring_task_done)

    def _ring_task_done(self, task: asyncio.Task) -> None:
        self._ring_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:  # a Redis outage, a bug
            log.error("handling an AMI ring failed", exc_info=task.exception())

    async def _originate(self, leg_id: str, call_id: str, agent_id: str, device: str, fresh: bool) -> None:
        if not fresh and not self._still_reserved(call_id, agent_id):
            self.state.forget_leg(leg_id)  # asked for before a restart or a timeout: nobody to ring for
            return
        try:
            answer = self._start_originate(leg_id, call_id, agent_id, device)
        except AmiUnavailable as exc:
            self._ring_failed(leg_id, call_id, agent_id, "asterisk-unavailable", exc.message)
            return
        await self._check_originate(answer, leg_id, call_id, agent_id, device)

    def _start_originate(self, leg_id: str, call_id: str, agent_id: str, device: str):
        """Write the Originate now; an awaitable of Asterisk's answer. Raises AmiUnavailable."""
        config = self._config
        hotline = config.hotline
        fields = {
            "Action": "Originate",
            "ActionID": leg_id,
            "ChannelId": leg_id,
            "Channel": device,
            "Context": config.asterisk.agent_context,
            "Exten": "s",
            "Priority": "1",
            "Timeout": str(config.routing.ring_timeout_seconds * 1000),
            "CallerID": f'"{hotline.name.get("en") or hotline.id}" <{hotline.number}>',
            "Async": "true",
            "Variable": [f"ONECALL_CALL={call_id}", f"ONECALL_AGENT={agent_id}"],
        }
        return self.ami.start_action(fields)

    async def _check_originate(self, answer, leg_id: str, call_id: str, agent_id: str, device: str) -> None:
        try:
            reply = await answer
        except AmiUnavailable as exc:
            self._ring_failed(leg_id, call_id, agent_id, "asterisk-unavailable", exc.message)
            return
        if reply.get("Response") != "Success":
            self._ring_failed(leg_id, call_id, agent_id, "ring-failed",
                              f"Asterisk refused to ring {device}: {reply.get('Message')}")

    def _ring_failed(self, leg_id: str, call_id: str, agent_id: str, reason: str, why: str) -> None:
        """The agent's phone cannot be rung: the call goes back to the head of its queue."""
        log.error("could not ring %s for call %s: %s", agent_id, call_id, why)
        self._calls.agent_missed(call_id, agent_id, reason)
        self.state.forget_leg(leg_id)

    def _still_reserved(self, call_id: str, agent_id: str) -> bool:
        try:
            record = self._routing.call(call_id)
        except RoutingError:
            return False
        return record.state == CallPhase.RESERVED and record.agent_id == agent_id

    async def _hang_up(self, leg_id: str) -> None:
        # The channel name is known once the leg answered; until then its Uniqueid (which
        # OneCall chose) names it: Asterisk looks a Hangup's Channel up by name, then by Uniqueid.
        channel = self.state.leg_channel(leg_id) or leg_id
        try:
            await self.ami.action({"Action": "Hangup", "Channel": channel})
        except AmiUnavailable as exc:
            log.warning("could not hang up %s: %s", channel, exc.message)
