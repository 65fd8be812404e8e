"""Every Redis key name of OneCall, built from the hotline namespace. Nothing else builds one.

All keys of one hotline share the hash tag ``{<namespace>}`` (prefix ``oc:{120}:``) so
that in Redis Cluster every key a script touches lives in one slot.

| key (after the prefix) | type | holds | used by |
| --- | --- | --- | --- |
| agent:<id>, call:<id>, avail:<skill>\\|<lang>, queue:<skill>\\|<lang>, reservations, wrapups, agents, queues, pairs, events | | routing state, see `routing.scripts` | `routing.store` |
| session:<call id> | string | the call's place in its flow (JSON) | `hotline.sessions` |
| pop:<agent id> | string | the pop on the agent's desk (JSON) | `hotline.screenpop` |
| desk:<agent id> | pub/sub channel | live events for the agent's desktop | `hotline.screenpop` |
| delivery:<id>, deliveries:due, deliveries:failed | hash, zset, list | screen-pop webhook deliveries | `hotline.screenpop` |
| citizen:<id>, citizen:<id>:consultations, citizen-ids, citizen-by-phone, citizen-by-number | string, list, hashes | the citizen registry | `hotline.citizens` |
| last-call:<agent id> | string | the agent's last answered call until its outcome is saved (JSON) | `hotline.outcomes` |
| call-outcomes | hash | call id -> the outcome recorded for it (JSON; also for unidentified callers) | `hotline.outcomes` |
| citizen-by-name:<name>\\|<birth year> | set | citizen ids of that name and birth year (the desk's search) | `hotline.citizens` |
| agent-leg:<call id> | string | "<channel> <leg id>" of the agent's leg, to hang it up | `hotline.dispatch` |
| call-seen | zset | routed Twilio calls -> when last seen | `telephony.twilio.liveness` |
| twilio-leg:<call id> | string | the name OneCall gave the Twilio agent leg the call is offered on now | `telephony.twilio.legs` |
| desk-session:<id> | string | the agent id of a desk login (TTL: the session's life); logout deletes it | `hotline.desk_auth` |
| login:agent:<id>, login:addr:<address>, login-locks | hashes, zset | wrong-PIN counts and lockouts per agent id and client address; subject -> locked until | `hotline.desk_auth` |
| audit:profile-views, audit:citizen:<id>, audit-seen:<agent>\\|<call>\\|<surface> | streams, string | who saw which citizen's profile, when, through which call; a desk view already recorded | `hotline.audit` |
| ast:calls, ast:legs, ast:leg-of, ast:leg-channel, ast:requests, ast:unreachable, ast:owner:<host>:<port> | hashes, list, set, string | Asterisk channels, AMI requests, the AMI owner's lease | `telephony.asterisk.channels` |
"""
from __future__ import annotations

_FORBIDDEN = ("|", "\n", "{", "}")


def pair_suffix(skill: str, language: str) -> str:
    """The per-(skill, language) suffix used by index and queue keys: ``skill|language``."""
    for part in (skill, language):
        if not part or any(ch in part for ch in _FORBIDDEN):
            raise ValueError(f"invalid skill/language name {part!r} (empty or contains | newline braces)")
    return f"{skill}|{language}"


class Keys:
    def __init__(self, namespace: str = "120") -> None:
        if not namespace or "{" in namespace or "}" in namespace:
            raise ValueError(f"invalid namespace {namespace!r}")
        self.namespace = namespace
        self.prefix = f"oc:{{{namespace}}}:"
        p = self.prefix
        # -- routing ----------------------------------------------------------------------
        self.reservations = p + "reservations"  # zset call_id -> reservation deadline
        self.wrapups = p + "wrapups"  # zset agent_id -> wrap-up deadline
        self.agents = p + "agents"  # set of agent ids (the registry)
        self.events = p + "events"  # stream of lifecycle events
        self.pairs = p + "pairs"  # set of "skill|language" some configured agent covers
        self.queues = p + "queues"  # set of "skill|language" that ever had a call
        # -- application --------------------------------------------------------------------
        self.deliveries_due = p + "deliveries:due"  # zset delivery id -> when due
        self.deliveries_failed = p + "deliveries:failed"  # list of delivery ids given up on
        self.citizen_record_prefix = p + "citizen:"  # + citizen id (FIND_CITIZEN builds it)
        self.citizen_ids = p + "citizen-ids"  # hash citizen id -> 1
        self.citizen_by_phone = p + "citizen-by-phone"  # hash E.164 phone -> citizen id ("C-1 C-2" when shared)
        self.citizen_by_number = p + "citizen-by-number"  # hash registry number -> citizen id
        self.call_outcomes = p + "call-outcomes"  # hash call id -> outcome JSON
        self.login_locks = p + "login-locks"  # zset "agent:<id>" / "addr:<address>" -> locked until
        self.profile_views = p + "audit:profile-views"  # stream of every profile view of the hotline
        # -- drivers ------------------------------------------------------------------------
        self.call_seen = p + "call-seen"  # zset Twilio call -> last seen
        self.asterisk_calls = p + "ast:calls"  # hash citizen Uniqueid -> channel name
        self.asterisk_legs = p + "ast:legs"  # hash agent leg Uniqueid -> "call_id agent_id"
        self.asterisk_leg_of = p + "ast:leg-of"  # hash call id -> latest agent leg Uniqueid
        self.asterisk_leg_channel = p + "ast:leg-channel"  # hash leg Uniqueid -> channel name
        self.asterisk_requests = p + "ast:requests"  # list of AMI actions (JSON) for the AMI owner
        self.asterisk_unreachable = p + "ast:unreachable"  # set of agents whose phone is unreachable

    # -- routing ------------------------------------------------------------------------------
    def agent(self, agent_id: str) -> str:
        return f"{self.prefix}agent:{agent_id}"  # hash

    def call(self, call_id: str) -> str:
        return f"{self.prefix}call:{call_id}"  # hash

    def available(self, skill: str, language: str) -> str:
        return f"{self.prefix}avail:{pair_suffix(skill, language)}"  # zset agent -> agent score

    def queue(self, skill: str, language: str) -> str:
        return f"{self.prefix}queue:{pair_suffix(skill, language)}"  # zset call -> call score

    def queue_of_suffix(self, suffix: str) -> str:
        return f"{self.prefix}queue:{suffix}"

    # -- application ----------------------------------------------------------------------------
    def session(self, call_id: str) -> str:
        return f"{self.prefix}session:{call_id}"

    def pop(self, agent_id: str) -> str:
        return f"{self.prefix}pop:{agent_id}"

    def desk_channel(self, agent_id: str) -> str:
        return f"{self.prefix}desk:{agent_id}"

    def delivery(self, delivery_id: str) -> str:
        return f"{self.prefix}delivery:{delivery_id}"

    def citizen(self, citizen_id: str) -> str:
        return self.citizen_record_prefix + citizen_id

    def citizen_consultations(self, citizen_id: str) -> str:
        return f"{self.citizen_record_prefix}{citizen_id}:consultations"

    def last_call(self, agent_id: str) -> str:
        return f"{self.prefix}last-call:{agent_id}"

    def citizen_by_name(self, name_and_year: str) -> str:
        return f"{self.prefix}citizen-by-name:{name_and_year}"  # set of citizen ids
    def desk_session(self, session_id: str) -> str:
        return f"{self.prefix}desk-session:{session_id}"  # string agent id

    def login_failures(self, subject: str) -> str:
        """subject: "agent:<id>" or "addr:<address>" (the member in `login_locks`)."""
        return f"{self.prefix}login:{subject}"  # hash failures locked_until

    def citizen_views(self, citizen_id: str) -> str:
        return f"{self.prefix}audit:citizen:{citizen_id}"  # stream of the views of one citizen's profile

    def view_seen(self, agent_id: str, call_id: str, surface: str) -> str:
        return f"{self.prefix}audit-seen:{agent_id}|{call_id}|{surface}"  # string, a view already recorded

    def agent_leg(self, call_id: str) -> str:
        return f"{self.prefix}agent-leg:{call_id}"

    # -- drivers --------------------------------------------------------------------------------
    def twilio_leg(self, call_id: str) -> str:
        return f"{self.prefix}twilio-leg:{call_id}"  # string: the current ring's leg name

    def asterisk_owner(self, host: str, port: int) -> str:
        return f"{self.prefix}ast:owner:{host}:{port}"
