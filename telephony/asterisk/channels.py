"""What OneCall remembers about Asterisk channels, in Redis (never in the process).

| key (prefix `oc:{<hotline>}:ast:`) | type | holds |
| --- | --- | --- |
| calls | hash | citizen channel Uniqueid (= call id) -> channel name, for every call on Asterisk |
| legs | hash | agent leg Uniqueid -> "call_id agent_id", for every agent leg rung |
| leg-of | hash | call id -> agent leg Uniqueid of its latest ring |
| leg-channel | hash | agent leg Uniqueid -> its channel name, once answered (AMI Hangup wants the name) |
| requests | list | AMI actions asked for by any process, JSON, taken by the AMI owner |
| unreachable | set | agents whose phone Asterisk reports unreachable |
| owner | string | the AMI connection's owner (a lease with a TTL) |

An agent leg's Uniqueid is chosen by OneCall (Originate's ChannelId) before it is rung, so
a Hangup, a late OriginateResponse or a resync can name the call of any leg.
"""
from __future__ import annotations

import json
import time
import uuid

from ivr.errors import TelephonyUnavailable

# Lease renewal and release only by the process holding it (compare, then act).
# KEYS[1] = owner key; ARGV[1] = this process's token; ARGV[2] = TTL in ms.
RENEW_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# KEYS[1] = owner key; ARGV[1] = this process's token.
RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class AsteriskState:
    def __init__(self, redis_client, namespace: str) -> None:
        self.redis = redis_client
        prefix = f"oc:{{{namespace}}}:ast:"
        self.calls_key = prefix + "calls"
        self.legs_key = prefix + "legs"
        self.leg_of_key = prefix + "leg-of"
        self.leg_channel_key = prefix + "leg-channel"
        self.requests_key = prefix + "requests"
        self.unreachable_key = prefix + "unreachable"
        self.owner_key = prefix + "owner"

    # -- citizen channels ------------------------------------------------------------
    def track_call(self, call_id: str, channel: str) -> None:
        self.redis.hset(self.calls_key, call_id, channel)

    def is_call(self, uniqueid: str) -> bool:
        return bool(self.redis.hexists(self.calls_key, uniqueid))

    def calls(self) -> dict[str, str]:
        return self.redis.hgetall(self.calls_key)

    def forget_call(self, call_id: str) -> None:
        leg = self.redis.hget(self.leg_of_key, call_id)
        pipe = self.redis.pipeline()
        pipe.hdel(self.calls_key, call_id)
        pipe.hdel(self.leg_of_key, call_id)
        if leg:
            pipe.hdel(self.legs_key, leg)
        pipe.execute()

    # -- agent legs ------------------------------------------------------------------
    def ring(self, call_id: str, agent_id: str, device: str, owner_here=None) -> str:
        """Name a new agent leg and have the AMI owner originate it: handed over directly when
        the owner runs in this process, else queued in Redis in the same round trip."""
        leg_id = f"oc-{uuid.uuid4().hex[:20]}"
        request = {"op": "originate", "leg": leg_id, "call": call_id, "agent": agent_id, "device": device,
                   "asked": time.time()}
        pipe = self.redis.pipeline()
        pipe.hset(self.legs_key, leg_id, f"{call_id} {agent_id}")
        pipe.hset(self.leg_of_key, call_id, leg_id)
        if owner_here is None:
            pipe.rpush(self.requests_key, json.dumps(request))
        pipe.execute()
        if owner_here is not None:
            owner_here(request)
        return leg_id

    def leg(self, leg_id: str) -> tuple[str, str] | None:
        value = self.redis.hget(self.legs_key, leg_id)
        if not value:
            return None
        call_id, _, agent_id = value.partition(" ")
        return call_id, agent_id

    def legs(self) -> dict[str, tuple[str, str]]:
        return {leg: tuple(v.split(" ", 1)) for leg, v in self.redis.hgetall(self.legs_key).items()}

    def answered_leg(self, leg_id: str, call_id: str, agent_id: str, channel: str) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(self.legs_key, leg_id, f"{call_id} {agent_id}")
        pipe.hset(self.leg_channel_key, leg_id, channel)
        pipe.execute()

    def leg_channel(self, leg_id: str) -> str | None:
        return self.redis.hget(self.leg_channel_key, leg_id)

    def forget_leg(self, leg_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.hdel(self.legs_key, leg_id)
        pipe.hdel(self.leg_channel_key, leg_id)
        pipe.execute()

    # -- reachability ----------------------------------------------------------------
    def mark_unreachable(self, agent_id: str) -> bool:
        return bool(self.redis.sadd(self.unreachable_key, agent_id))

    def is_unreachable(self, agent_id: str) -> bool:
        return bool(self.redis.sismember(self.unreachable_key, agent_id))

    def mark_reachable(self, agent_id: str) -> bool:
        return bool(self.redis.srem(self.unreachable_key, agent_id))

    # -- requests to the AMI owner ---------------------------------------------------
    def request(self, op: str, **fields: str) -> None:
        self.redis.rpush(self.requests_key, json.dumps({"op": op, **fields}))


class AsteriskRinger:
    """Rings an agent for an Asterisk call from any process: the AMI owner places the call.

    `ring` returns the leg's Uniqueid (OneCall picks it) at once; whether the phone was
    answered arrives later, through the agent's FastAGI session or an OriginateResponse.
    """

    def __init__(self, redis_client, namespace: str, config) -> None:
        self._state = AsteriskState(redis_client, namespace)
        self._devices = {agent.id: agent.asterisk_device for agent in config.agents if agent.asterisk_device}
        # Set by the AMI owner when it runs in this process: takes a request, thread-safe.
        self.owner_here = None

    def ring(self, call_id: str, agent_id: str, endpoint: str) -> str:
        device = self._devices.get(agent_id)
        if device is None:
            raise TelephonyUnavailable(f"agent {agent_id} has no asterisk_device to ring")
        return self._state.ring(call_id, agent_id, device, self.owner_here)

    def hang_up(self, leg_id: str) -> None:
        if self.owner_here is not None:
            self.owner_here({"op": "hangup", "leg": leg_id})
        else:
            self._state.request("hangup", leg=leg_id)
