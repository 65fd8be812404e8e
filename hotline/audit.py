"""Who saw which citizen's profile, when, and through which call.

Every time a citizen's profile is shown, one entry goes into the hotline's audit stream
and, under the same entry id, into the citizen's own stream (so "who saw citizen X" is
one read), both capped (`audit.max_views`, `audit.max_views_per_citizen` in the config).

Where a profile is shown, and what is recorded (`surface`):

- `pop`: the pop is sent to the reserved agent's desk (and the screen-pop webhooks):
  once per reservation, the viewer is the agent.
- `desk`: the desk fetched a snapshot holding the pop (`/desk/state`, `/desk/events` and
  the snapshot every desk action answers with). A desk re-reads its snapshot every few
  seconds, so this is recorded once per (agent, call): the first time the profile
  reached the screen. A reload of the same call adds nothing; the next call is new.
- `api`: an operator's `GET /api/citizens/<id>`: every lookup, with the client address
  (the API token names no person).
- `search`: a citizen the desk's registry search listed to the agent (name, birth year,
  address); `identify`: the agent attached their call to that citizen (its profile follows).

Only identified citizens have a profile; a pop for an unknown caller records nothing.
Entries hold ids only (citizen, agent, call), never the profile's contents.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import Callable

from hotline.errors import BadRequest
from routing.keys import Keys
from routing.scripts import RECORD_VIEW

SEEN_TTL_SECONDS = 24 * 3600  # as long as a pop is kept: a desk view is recorded once per call
MAX_PAGE = 1000
_SCAN_CHUNK = 500
_STREAM_ID = re.compile(r"^[0-9]+-[0-9]+$")


class ProfileViews:
    def __init__(self, redis_client, keys: Keys, *, max_views: int, max_views_per_citizen: int,
                 clock: Callable[[], float] = time.time) -> None:
        self._redis = redis_client
        self._keys = keys
        self._caps = (max_views, max_views_per_citizen)
        self._clock = clock
        self._record = redis_client.register_script(RECORD_VIEW)

    def record(self, citizen_id: str, *, viewer: str, surface: str, call_id: str = "", address: str = "",
               once: bool = False) -> str | None:
        """One view; with `once`, only the first for (viewer, call, surface). The entry id, or None."""
        keys = [self._keys.profile_views, self._keys.citizen_views(citizen_id)]
        if once:
            keys.append(self._keys.view_seen(viewer, call_id, surface))
        fields = {"at": repr(self._clock()), "citizen": citizen_id, "viewer": viewer, "surface": surface,
                  "call": call_id, "address": address}
        args = [*self._caps, SEEN_TTL_SECONDS, *(item for pair in fields.items() for item in pair)]
        return self._record(keys=keys, args=args)

    def pop_shown(self, pop: dict | None, surface: str) -> None:
        """A pop reached its agent (`pop`: sent; `desk`: on the desk's screen, once per call)."""
        citizen = (pop or {}).get("citizen") or {}
        if not citizen.get("identified") or not citizen.get("id"):
            return
        self.record(citizen["id"], viewer=pop["agent"]["id"], surface=surface, call_id=pop["call"]["id"],
                    once=surface == "desk")

    def query(self, *, citizen: str | None = None, agent: str | None = None, since: str | None = None,
              limit: int = 100) -> dict:
        """Views in time order: from `since` on (`next` continues), else the latest `limit`."""
        key = self._keys.citizen_views(citizen) if citizen else self._keys.profile_views
        start = parse_since(since) if since else None
        entries = self._scan(key, agent, start, max(1, min(limit, MAX_PAGE)))
        views = [_view(entry_id, fields) for entry_id, fields in entries]
        next_since = _after(entries[-1][0]) if start is not None and entries else None
        return {"views": views, "next": next_since}

    def _scan(self, key: str, agent: str | None, start: str | None, limit: int) -> list:
        """Up to `limit` entries of `key` (by `agent` if given): forward from `start`, else the newest."""
        found: list = []
        cursor = start if start is not None else "+"
        while len(found) < limit:
            chunk = (self._redis.xrange(key, cursor, "+", count=_SCAN_CHUNK) if start is not None
                     else self._redis.xrevrange(key, cursor, "-", count=_SCAN_CHUNK))
            found += [entry for entry in chunk if agent is None or entry[1].get("viewer") == agent]
            if len(chunk) < _SCAN_CHUNK:
                break
            cursor = "(" + chunk[-1][0]
        found = found[:limit]
        return found if start is not None else found[::-1]


def parse_since(text: str) -> str:
    """`since` as a stream position: epoch seconds, ISO 8601 with an offset, or an entry id."""
    text = text.strip()
    if _STREAM_ID.match(text):
        return text
    try:
        seconds = float(text)
    except ValueError:
        seconds = _iso_seconds(text)
    return f"{int(seconds * 1000)}-0"


def _iso_seconds(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest("since", "must be epoch seconds, an ISO 8601 time with its offset, or a view id") from None
    if moment.tzinfo is None:
        raise BadRequest("since", "an ISO 8601 time needs its offset (e.g. 2026-12-01T09:00:00+09:00)")
    return moment.timestamp()


def _after(entry_id: str) -> str:
    ms, _, seq = entry_id.partition("-")
    return f"{ms}-{int(seq) + 1}"


def _view(entry_id: str, fields: dict) -> dict:
    at = datetime.fromtimestamp(float(fields["at"]), timezone.utc).isoformat(timespec="milliseconds")
    view = {"id": entry_id, "at": at, "citizen": fields["citizen"], "viewer": fields["viewer"],
            "surface": fields["surface"], "call": fields.get("call") or None}
    if fields.get("address"):
        view["address"] = fields["address"]
    return view
