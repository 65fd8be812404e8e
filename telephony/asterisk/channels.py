"""What OneCall remembers about Asterisk channels, in Redis (never in the process).

| key (named in `routing.keys`) | type | holds |
| --- | --- | --- |
| asterisk_calls | hash | citizen channel Uniqueid (= call id) -> channel name, for every call on Asterisk |
| asterisk_legs | hash | agent leg Uniqueid -> "call_id agent_id", for every agent leg rung |
| asterisk_leg_of | hash | call id -> agent leg Uniqueid of its latest ring |
| asterisk_leg_channel | hash | agent leg Uniqueid -> its channel name, once answered (AMI Hangup wants the name) |
| asterisk_requests | list | AMI actions asked for by any process, JSON, taken by the AMI owner |
| asterisk_unreachable | set | agents whose phone Asterisk reports unreachable |
| asterisk_owner(host, port) | string | the AMI connection's owner (a lease with a TTL) |

An agent leg's Uniqueid is chosen by OneCall (Originate's ChannelId) before it is rung, so
a Hangup, a late OriginateResponse or a resync can name the call of any leg.
"""
from __future__ import annotations

import json
import time
import uuid

from routing.keys import Keys


class AsteriskState:
    def __init__(self, redis_client, keys: Keys) -> None:
        self.redis = redis_client
        self.keys = keys
        self.calls_key = keys.asterisk_calls
        self.legs_key = keys.asterisk_legs
        self.leg_of_key = keys.asterisk_leg_of
        self.leg_channel_key = keys.asterisk_leg_channel
        self.requests_key = keys.asterisk_requests
        self.unreachable_key = keys.asterisk_unreachable

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

    def latest_leg(self, call_id: str) -> str | None:
        """The leg of the call's latest ring: the one that accepted it, or the one ringing."""
        return self.redis.hget(self.leg_of_key, call_id)

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

