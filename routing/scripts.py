"""Every Lua script of OneCall. Each routing state change is exactly one of these; the
others serve the application and the drivers (due-work claims, the citizen registry's
import and the IVR's lookup, the agents' last calls and their outcomes, the AMI owner's lease,
desk login throttling, the profile-view audit).

Modelled on rq's ``scripts.py``: each script is a module constant with a header listing
its KEYS and ARGV; its user registers it once per client (``register_script``); the
routing store registers each of its own once per connection
(``register_script``: EVALSHA, falling back to loading it on NOSCRIPT) and wraps it in a
typed method.  Failures come back as error replies ``"<error-id> <details>"`` raised
before any write, which the store maps to `routing.errors` classes.

Key layout (prefix ``P = "oc:{<namespace>}:"``, see `routing.keys`)::

    P..agent:<id>          hash  name skills(json) languages(json) endpoint
                                 pairs("<prof> <skill>|<lang>\\n"...) status since call_id reason
    P..call:<id>           hash  state skill language priority score citizen_id caller data(json)
                                 enqueued_at agent_id deadline connected_at ended_at end_reason
    P..avail:<skill>|<lang> zset agent_id -> agent score (policy.agent_score)
    P..queue:<skill>|<lang> zset call_id  -> call score  (policy.call_score)
    P..reservations        zset call_id  -> reservation deadline
    P..wrapups             zset agent_id -> wrap-up deadline
    P..agents / P..queues  sets (agent registry, queue names)
    P..events              stream, MAXLEN ~ 100000

Keys derived inside scripts.  The scripts read an agent's or a call's hash and then touch
the index/queue/agent/call keys it names, which the caller cannot know in advance.  Each
script declares in KEYS the keys it knows (always the events stream, plus the agent or
call hash it was called for) and builds the others from the prefix P, which is KEYS[1]
(``P..events``) without its ``events`` suffix.  Every such
key carries the same hash tag ``{<namespace>}``, so in Redis Cluster all of them hash to
the slot of the declared KEYS and the script stays single-slot; on a standalone server
or Sentinel this is plain Redis scripting (effects replication, Redis >= 5).

Common ARGV of every routing script except QUEUE_POSITION (the caller passes them from its clock,
so tests control time; Lua never calls TIME)::

    ARGV[1] now (epoch s, Python ``repr(float)``)
    ARGV[2] reservation deadline (now + reservation_timeout)

"now" in integer ms (policy.to_ms) is ``math.floor(tonumber(NOW) * 1000)``: ``repr``
round-trips the double exactly and the product is the same IEEE operation, so it equals
Python's ``int(now * 1000)``.  END_CALL alone also takes the wrap-up deadline.

A reservation reply is the array
``{call_id, agent_id, skill, language, citizen_id, caller, endpoint, deadline}``.

Hot path (SET_STATUS to available, ENQUEUE with an agent free): one EVALSHA, no TIME, no
cjson, no HGETALL; the agent's queues come from its ``pairs`` field with plain
``string.find`` (no pattern matching, no per-pair tables).

Events (XADD P..events): fields ``type ts`` and, as relevant, ``call agent from reason
queue priority``; ``agent_status`` is present on EVERY event that changes an agent's
status and ``call_state`` on every event that changes a call's state, so a reader can
replay both state machines from the stream alone.
"""
from __future__ import annotations

# ----------------------------------------------------------------------------------------
# Shared helpers (not scripts by themselves); each script is built from the ones it uses,
# so EVALSHA does not create closures it never calls.
# ----------------------------------------------------------------------------------------
_HEAD = r"""
local EVENTS = KEYS[1]
local P = string.sub(EVENTS, 1, -7)  -- KEYS[1] is P .. 'events'
local NOW = ARGV[1]
local RES_DEADLINE = ARGV[2]
local RESERVATIONS = P .. 'reservations'
local WRAPUPS = P .. 'wrapups'
local find, sub = string.find, string.sub

-- now in integer ms, equal to policy.to_ms(now) (see the module docstring)
local function now_ms()
  return math.floor(tonumber(NOW) * 1000)
end

local function emit(...)
  redis.call('XADD', EVENTS, 'MAXLEN', '~', '100000', '*', 'ts', NOW, ...)
end

-- "<prof> <skill>|<lang>\n"... -> {suffix, ...}, {prof (string), ...}
-- Plain finds: the proficiency is digits, so the first space ends it; a suffix has no
-- newline (keys.pair_suffix).
local function parse_pairs(s)
  local sfx, prof, n, pos = {}, {}, 0, 1
  if s then
    while true do
      local sp = find(s, ' ', pos, true)
      if not sp then break end
      local nl = find(s, '\n', sp, true)
      if not nl then break end
      n = n + 1
      prof[n] = sub(s, pos, sp - 1)
      sfx[n] = sub(s, sp + 1, nl - 1)
      pos = nl + 1
    end
  end
  return sfx, prof
end

local function unindex(aid, sfx)
  for i = 1, #sfx do
    redis.call('ZREM', P .. 'avail:' .. sfx[i], aid)
  end
end
"""

_RESERVE = r"""
-- Reserve agent aid (already out of every index) for waiting call cid of queue q.
-- endpoint: the agent's 'endpoint' field, read by the caller with its other agent fields.
local function reserve(cid, q, aid, akey, from, endpoint)
  local ckey = P .. 'call:' .. cid
  redis.call('ZREM', q, cid)
  redis.call('HSET', akey, 'status', 'reserved', 'call_id', cid, 'since', NOW, 'reason', '')
  redis.call('HSET', ckey, 'state', 'reserved', 'agent_id', aid, 'deadline', RES_DEADLINE)
  redis.call('ZADD', RESERVATIONS, RES_DEADLINE, cid)
  local c = redis.call('HMGET', ckey, 'skill', 'language', 'citizen_id', 'caller')
  emit('type', 'call-reserved', 'call', cid, 'agent', aid, 'from', from,
       'agent_status', 'reserved', 'call_state', 'reserved')
  return {cid, aid, c[1], c[2], c[3] or '', c[4] or '', endpoint or '', RES_DEADLINE}
end
"""

_OFFER = r"""
-- The agent becomes available: reserve it for the best head call (lowest score) among
-- the queues it serves; if none waits, put it in each of its indexes.
-- pairs_s/endpoint: the agent's 'pairs' and 'endpoint' fields (false: read them here).
-- evtype: event to emit when it just becomes available (false: the caller emitted one).
local function offer_agent(aid, akey, from, since, since_ms, evtype, pairs_s, endpoint)
  if not pairs_s then
    local a = redis.call('HMGET', akey, 'pairs', 'endpoint')
    pairs_s, endpoint = a[1], a[2]
  end
  local sfx, prof = parse_pairs(pairs_s)
  local best, best_score, best_q = nil, nil, nil
  for i = 1, #sfx do
    local q = P .. 'queue:' .. sfx[i]
    local head = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
    if head[1] then
      local sc = tonumber(head[2])
      if best_score == nil or sc < best_score then
        best, best_score, best_q = head[1], sc, q
      end
    end
  end
  if best then
    return reserve(best, best_q, aid, akey, from, endpoint or '')
  end
  for i = 1, #sfx do
    -- mirrors policy.agent_score: (MAX_PROFICIENCY - prof) * SCORE_BAND + since_ms
    redis.call('ZADD', P .. 'avail:' .. sfx[i],
               string.format('%.0f', (5 - tonumber(prof[i])) * 1e13 + since_ms), aid)
  end
  redis.call('HSET', akey, 'status', 'available', 'since', since, 'call_id', '', 'reason', '')
  if evtype then
    emit('type', evtype, 'agent', aid, 'from', from, 'agent_status', 'available')
  end
  return false
end
"""

_MATCH = r"""
-- If an agent is available for queue sfx (key q), reserve the best one for its head call.
local function match_queue(sfx, q)
  local a = redis.call('ZRANGE', P .. 'avail:' .. sfx, 0, 0)
  if not a[1] then return false end
  local head = redis.call('ZRANGE', q, 0, 0)
  if not head[1] then return false end
  local akey = P .. 'agent:' .. a[1]
  local f = redis.call('HMGET', akey, 'pairs', 'endpoint')  -- one read for both
  unindex(a[1], (parse_pairs(f[1])))
  return reserve(head[1], q, a[1], akey, 'available', f[2] or '')
end
"""

_REQUEUE = r"""
-- A reservation failed (rejected or timed out): the call returns to its queue with its
-- ORIGINAL score (the head, not the back), the agent goes on break (reason 'missed') so an
-- empty desk is not rung again, and the call is offered to the next available agent.
local function requeue(cid, ckey, aid, akey, reason, evtype)
  redis.call('ZREM', RESERVATIONS, cid)
  local c = redis.call('HMGET', ckey, 'skill', 'language', 'score')
  local sfx = c[1] .. '|' .. c[2]
  local q = P .. 'queue:' .. sfx
  redis.call('HSET', ckey, 'state', 'waiting', 'agent_id', '')
  redis.call('ZADD', q, c[3], cid)
  redis.call('HSET', akey, 'status', 'break', 'reason', 'missed', 'since', NOW, 'call_id', '')
  emit('type', evtype, 'call', cid, 'agent', aid, 'reason', reason,
       'agent_status', 'break', 'call_state', 'waiting')
  return match_queue(sfx, q)
end
"""

# ----------------------------------------------------------------------------------------
SET_STATUS = _HEAD + _RESERVE + _OFFER + r"""
-- SET_STATUS: an agent changes status; going available also reserves the best waiting call.
-- KEYS[1] events stream   KEYS[2] agent hash
-- ARGV[1..2] common       ARGV[3] agent_id   ARGV[4] target status   ARGV[5] reason
-- ARGV[6] required current status ('' = any allowed one; 'wrapup' for finish_wrapup)
-- Reply: reservation array, or nil.  Errors: no-such-agent, invalid-agent-transition.
local aid, target, reason, only_from = ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local akey = KEYS[2]
local a = redis.call('HMGET', akey, 'status', 'pairs', 'endpoint')
local cur = a[1]
if not cur then return redis.error_reply('no-such-agent ' .. aid) end
if cur == target then return false end
-- allowed: offline/break/wrapup -> available; available/wrapup/offline -> break;
--          available/break/wrapup -> offline.  Never from reserved/busy.
local ALLOWED = ' offline>available break>available wrapup>available available>break ' ..
                'wrapup>break offline>break available>offline break>offline wrapup>offline '
if (only_from ~= '' and cur ~= only_from)
   or not string.find(ALLOWED, ' ' .. cur .. '>' .. target .. ' ', 1, true) then
  return redis.error_reply('invalid-agent-transition ' .. cur .. ' ' .. target)
end
if cur == 'wrapup' then redis.call('ZREM', WRAPUPS, aid) end
if target == 'available' then
  return offer_agent(aid, akey, cur, NOW, now_ms(), 'agent-status', a[2] or '', a[3] or '')
end
if cur == 'available' then unindex(aid, (parse_pairs(a[2]))) end
redis.call('HSET', akey, 'status', target, 'since', NOW, 'reason', reason, 'call_id', '')
emit('type', 'agent-status', 'agent', aid, 'from', cur, 'agent_status', target, 'reason', reason)
return false
"""

# ----------------------------------------------------------------------------------------
ENQUEUE = _HEAD + _RESERVE + _MATCH + r"""
-- ENQUEUE: a call joins its (skill, language) queue; if an agent of that index is
-- available, the best one is reserved for the head of the queue in the same step.
-- KEYS[1] events stream   KEYS[2] call hash   KEYS[3] queue zset
-- ARGV[1..2] common  ARGV[3] call_id  ARGV[4] skill  ARGV[5] language  ARGV[6] priority
-- ARGV[7] score (policy.call_score)  ARGV[8] citizen_id  ARGV[9] caller  ARGV[10] data json
-- Reply: {position or nil, reservation array or nil}.  Error: call-already-queued
-- (an ENDED call id may be enqueued again: it starts afresh).
local cid = ARGV[3]
local ckey, q = KEYS[2], KEYS[3]
local state = redis.call('HGET', ckey, 'state')
if state and state ~= 'ended' then return redis.error_reply('call-already-queued ' .. cid) end
if state then redis.call('DEL', ckey) end
local sfx = ARGV[4] .. '|' .. ARGV[5]
redis.call('HSET', ckey, 'state', 'waiting', 'skill', ARGV[4], 'language', ARGV[5],
           'priority', ARGV[6], 'score', ARGV[7], 'citizen_id', ARGV[8], 'caller', ARGV[9],
           'data', ARGV[10], 'enqueued_at', NOW, 'agent_id', '')
redis.call('ZADD', q, ARGV[7], cid)
redis.call('SADD', P .. 'queues', sfx)
emit('type', 'call-queued', 'call', cid, 'queue', sfx, 'priority', ARGV[6], 'call_state', 'waiting')
local r = match_queue(sfx, q)
local rank = redis.call('ZRANK', q, cid)
local pos = false
if rank then pos = rank + 1 end
return {pos, r}
"""

# ----------------------------------------------------------------------------------------
ACCEPT = _HEAD + r"""
-- ACCEPT: the reserved agent answered: agent reserved -> busy, call reserved -> connected.
-- Idempotent for the same (call, agent) once connected.
-- KEYS[1] events stream   KEYS[2] call hash   KEYS[3] agent hash
-- ARGV[1..2] common       ARGV[3] call_id     ARGV[4] agent_id
-- Reply: the call hash (HGETALL).  Errors: no-such-call, reservation-expired.
local cid, aid = ARGV[3], ARGV[4]
local c = redis.call('HMGET', KEYS[2], 'state', 'agent_id')
if not c[1] then return redis.error_reply('no-such-call ' .. cid) end
if c[2] ~= aid or (c[1] ~= 'reserved' and c[1] ~= 'connected') then
  return redis.error_reply('reservation-expired ' .. cid .. ' ' .. aid)
end
if c[1] == 'reserved' then
  redis.call('ZREM', RESERVATIONS, cid)
  redis.call('HSET', KEYS[3], 'status', 'busy', 'since', NOW, 'reason', '')
  redis.call('HSET', KEYS[2], 'state', 'connected', 'connected_at', NOW)
  emit('type', 'call-accepted', 'call', cid, 'agent', aid, 'from', 'reserved',
       'agent_status', 'busy', 'call_state', 'connected')
end
return redis.call('HGETALL', KEYS[2])
"""

# ----------------------------------------------------------------------------------------
REJECT = _HEAD + _RESERVE + _MATCH + _REQUEUE + r"""
-- REJECT: the reserved agent's phone failed or was not answered.  The call goes back to
-- the head of its queue (original score), the agent on break ('missed'), and the call is
-- offered to the next available agent.
-- KEYS[1] events stream   KEYS[2] call hash   KEYS[3] agent hash
-- ARGV[1..2] common       ARGV[3] call_id     ARGV[4] agent_id   ARGV[5] reason
-- Reply: the new reservation array, or nil.  Errors: no-such-call, reservation-expired.
local cid, aid = ARGV[3], ARGV[4]
local c = redis.call('HMGET', KEYS[2], 'state', 'agent_id')
if not c[1] then return redis.error_reply('no-such-call ' .. cid) end
if c[1] ~= 'reserved' or c[2] ~= aid then
  return redis.error_reply('reservation-expired ' .. cid .. ' ' .. aid)
end
return requeue(cid, KEYS[2], aid, KEYS[3], ARGV[5], 'call-rejected')
"""

# ----------------------------------------------------------------------------------------
EXPIRE_RESERVATIONS = _HEAD + _RESERVE + _MATCH + _REQUEUE + r"""
-- EXPIRE_RESERVATIONS: every reservation whose deadline <= now is undone like REJECT
-- (reason 'timeout').  Safe from many processes: each runs atomically and removes what
-- it handled, so a reservation expires exactly once.
-- KEYS[1] events stream
-- ARGV[1..2] common       ARGV[3] max reservations handled in this run
-- Reply: {number handled, reservation array, ...} (the new reservations made).
local due = redis.call('ZRANGEBYSCORE', RESERVATIONS, '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {#due}
for i = 1, #due do
  local cid = due[i]
  local ckey = P .. 'call:' .. cid
  local c = redis.call('HMGET', ckey, 'state', 'agent_id')
  if c[1] == 'reserved' and c[2] and c[2] ~= '' then
    local r = requeue(cid, ckey, c[2], P .. 'agent:' .. c[2], 'timeout', 'reservation-expired')
    if r then out[#out + 1] = r end
  else
    redis.call('ZREM', RESERVATIONS, cid)
  end
end
return out
"""

# ----------------------------------------------------------------------------------------
END_CALL = _HEAD + _RESERVE + _OFFER + r"""
-- END_CALL: the caller hung up or the call finished.
--   waiting   -> removed from its queue (abandoned)
--   reserved  -> agent released to available and re-matched to a waiting call
--   connected -> agent to wrapup, with a deadline in the wrapups zset
--   ended     -> no-op
-- KEYS[1] events stream   KEYS[2] call hash
-- ARGV[1..2] common  ARGV[3] call_id  ARGV[4] reason  ARGV[5] ttl (s) of the ended call hash (0 = keep)
-- ARGV[6] wrap-up deadline (now + wrapup_seconds)
-- Reply: the released agent's new reservation array, or nil.  Error: no-such-call.
local cid, reason, WRAP_DEADLINE = ARGV[3], ARGV[4], ARGV[6]
local ckey = KEYS[2]
local c = redis.call('HMGET', ckey, 'state', 'agent_id', 'skill', 'language')
if not c[1] then return redis.error_reply('no-such-call ' .. cid) end
local state = c[1]
if state == 'ended' then return false end
redis.call('HSET', ckey, 'state', 'ended', 'ended_at', NOW, 'end_reason', reason)
local ttl = tonumber(ARGV[5])
if ttl and ttl > 0 then redis.call('EXPIRE', ckey, ttl) end
if state == 'waiting' then
  redis.call('ZREM', P .. 'queue:' .. c[3] .. '|' .. c[4], cid)
  emit('type', 'call-ended', 'call', cid, 'from', 'waiting', 'reason', reason, 'call_state', 'ended')
  return false
end
local aid = c[2] or ''
local akey = P .. 'agent:' .. aid
if state == 'reserved' then redis.call('ZREM', RESERVATIONS, cid) end
local holder = redis.call('HGET', akey, 'call_id')
if aid == '' or holder ~= cid then
  emit('type', 'call-ended', 'call', cid, 'from', state, 'reason', reason, 'call_state', 'ended')
  return false
end
if state == 'reserved' then
  emit('type', 'call-ended', 'call', cid, 'agent', aid, 'from', state, 'reason', reason,
       'call_state', 'ended', 'agent_status', 'available')
  return offer_agent(aid, akey, 'available', NOW, now_ms(), false)
end
redis.call('HSET', akey, 'status', 'wrapup', 'since', NOW, 'call_id', '', 'reason', '')
redis.call('ZADD', WRAPUPS, WRAP_DEADLINE, aid)
emit('type', 'call-ended', 'call', cid, 'agent', aid, 'from', state, 'reason', reason,
     'call_state', 'ended', 'agent_status', 'wrapup')
return false
"""

# ----------------------------------------------------------------------------------------
EXPIRE_WRAPUPS = _HEAD + _RESERVE + _OFFER + r"""
-- EXPIRE_WRAPUPS: agents whose wrap-up deadline <= now become available (and matched).
-- KEYS[1] events stream
-- ARGV[1..2] common       ARGV[3] max agents handled in this run
-- Reply: {number handled, reservation array, ...}.
local due = redis.call('ZRANGEBYSCORE', WRAPUPS, '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {#due}
for i = 1, #due do
  local aid = due[i]
  redis.call('ZREM', WRAPUPS, aid)
  local akey = P .. 'agent:' .. aid
  if redis.call('HGET', akey, 'status') == 'wrapup' then
    local r = offer_agent(aid, akey, 'wrapup', NOW, now_ms(), 'agent-status')
    if r then out[#out + 1] = r end
  end
end
return out
"""

# ----------------------------------------------------------------------------------------
UPSERT_AGENT = _HEAD + _RESERVE + _OFFER + r"""
-- UPSERT_AGENT: create or update an agent's configuration, keeping its live state.  New
-- agents start offline.  An available agent whose pairs changed is re-indexed (keeping
-- its idle time) and offered the waiting calls of its new queues.
-- KEYS[1] events stream   KEYS[2] agent hash
-- ARGV[1..2] common  ARGV[3] agent_id  ARGV[4] name  ARGV[5] skills json
-- ARGV[6] languages json  ARGV[7] endpoint  ARGV[8] pairs ("<prof> <skill>|<lang>\n"...)
-- Reply: a reservation array (re-indexed agent matched), or nil.
local aid, akey = ARGV[3], KEYS[2]
local old = redis.call('HMGET', akey, 'status', 'pairs', 'since')
redis.call('SADD', P .. 'agents', aid)
redis.call('HSET', akey, 'name', ARGV[4], 'skills', ARGV[5], 'languages', ARGV[6],
           'endpoint', ARGV[7], 'pairs', ARGV[8])
if not old[1] then
  redis.call('HSET', akey, 'status', 'offline', 'since', NOW, 'call_id', '', 'reason', '')
  emit('type', 'agent-added', 'agent', aid, 'agent_status', 'offline')
  return false
end
if old[1] == 'available' and old[2] ~= ARGV[8] then
  unindex(aid, (parse_pairs(old[2])))
  local since = old[3]
  return offer_agent(aid, akey, 'available', since, math.floor(tonumber(since) * 1000), false)
end
return false
"""

# ----------------------------------------------------------------------------------------
REMOVE_AGENT = _HEAD + r"""
-- REMOVE_AGENT: delete an agent from the registry, only if it is offline.
-- KEYS[1] events stream   KEYS[2] agent hash
-- ARGV[1..2] common       ARGV[3] agent_id
-- Reply: 1 removed, 0 kept (not offline), -1 unknown.
local aid, akey = ARGV[3], KEYS[2]
local st = redis.call('HGET', akey, 'status')
if not st then redis.call('SREM', P .. 'agents', aid) return -1 end
if st ~= 'offline' then return 0 end
redis.call('DEL', akey)
redis.call('SREM', P .. 'agents', aid)
redis.call('ZREM', WRAPUPS, aid)
emit('type', 'agent-removed', 'agent', aid)
return 1
"""

# ----------------------------------------------------------------------------------------
EXTEND_WRAPUP = _HEAD + r"""
-- EXTEND_WRAPUP: an agent in wrap-up asks for more time: the deadline in the wrapups zset
-- moves later (from the old deadline, or from now when it already passed), never past a cap.
-- KEYS[1] events stream   KEYS[2] agent hash
-- ARGV[1..2] common  ARGV[3] agent_id  ARGV[4] seconds to add  ARGV[5] latest deadline allowed
-- Reply: the new deadline (string).  Errors: no-such-agent, invalid-agent-transition
-- (not in wrap-up: "<status> wrapup").
local aid, akey = ARGV[3], KEYS[2]
local st = redis.call('HGET', akey, 'status')
if not st then return redis.error_reply('no-such-agent ' .. aid) end
if st ~= 'wrapup' then return redis.error_reply('invalid-agent-transition ' .. st .. ' wrapup') end
local old = tonumber(redis.call('ZSCORE', WRAPUPS, aid) or NOW)
local deadline = math.max(old, tonumber(NOW)) + tonumber(ARGV[4])
deadline = math.min(deadline, tonumber(ARGV[5]))
local text = string.format('%.3f', deadline)
redis.call('ZADD', WRAPUPS, text, aid)
emit('type', 'wrapup-extended', 'agent', aid, 'deadline', text)
return text
"""

# ----------------------------------------------------------------------------------------
QUEUE_POSITION = r"""
-- QUEUE_POSITION (read-only): 1-based rank of a waiting call in its queue, nil otherwise.
-- KEYS[1] call hash
-- ARGV[1] prefix   ARGV[2] call_id
local c = redis.call('HMGET', KEYS[1], 'state', 'skill', 'language')
if c[1] ~= 'waiting' then return false end
local r = redis.call('ZRANK', ARGV[1] .. 'queue:' .. c[2] .. '|' .. c[3], ARGV[2])
if not r then return false end
return r + 1
"""

# ----------------------------------------------------------------------------------------
# Scripts of the application and the drivers, kept here with the others so every Lua of
# OneCall is read, documented and registered the same way.
# ----------------------------------------------------------------------------------------
CLAIM_DUE = r"""
-- CLAIM_DUE: hand the due members of a sorted set to one of many workers.
-- Each claimed member moves to a later score in the same step, so no other worker takes it
-- meanwhile, and a worker that dies mid-task only delays the member, never loses it.
-- KEYS[1] the sorted set (member -> due time)
-- ARGV[1] claim members due at or before this score
-- ARGV[2] the score the claimed members move to (their next due time / lease end)
-- ARGV[3] at most this many members
-- Reply: the members claimed.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
end
return due
"""

FIND_CITIZEN = r"""
-- FIND_CITIZEN (read-only): the IVR's identify step in one round trip. An index gives the
-- citizen id and the record says whether the citizen is served first.
-- KEYS[1] index hash (citizen-by-phone or citizen-by-number)
-- ARGV[1] phone (E.164) or registry number   ARGV[2] record key prefix "oc:{<ns>}:citizen:"
-- Reply: {citizen id, 1 if vulnerable else 0}, or nil when the index has no entry, the
-- entry's record is gone, or the phone is shared ("C-1 C-2": a household's line names
-- nobody by itself). The record key carries the hash tag of KEYS[1] (one slot).
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id or string.find(id, ' ', 1, true) then return false end
local raw = redis.call('GET', ARGV[2] .. id)
if not raw then return false end
local vulnerable = cjson.decode(raw).vulnerable == true
return {id, vulnerable and 1 or 0}
"""

IMPORT_CITIZENS = r"""
-- IMPORT_CITIZENS: insert or replace a batch of citizen records, all or nothing.
-- A registry number belongs to one citizen: a number held by a citizen outside the batch
-- refuses the whole batch. A phone may be shared; its index entry lists the holders,
-- separated by spaces. A replaced record gives up the numbers and phones it no longer has.
-- KEYS[1] citizen-ids hash   KEYS[2] citizen-by-phone hash   KEYS[3] citizen-by-number hash
-- ARGV[1] record key prefix "oc:{<ns>}:citizen:" (record: P..id, history: P..id..":consultations")
-- ARGV[2] "1": only look for conflicts, write nothing
-- ARGV[3] the batch, JSON [{"id", "number" ("" for none), "phones": [E.164...], "history": n}...]
-- ARGV[4..] per record in batch order: its body (JSON), then its n consultations, newest first
-- Reply: {} when imported (or, checking, when nothing is in the way); else, writing nothing,
-- a flat list {batch position (1-based), registry number, holder id, ...}.
local prefix = ARGV[1]
local batch = cjson.decode(ARGV[3])
local in_batch = {}
for _, entry in ipairs(batch) do in_batch[entry.id] = true end

local conflicts = {}
for position, entry in ipairs(batch) do
  if entry.number ~= '' then
    local holder = redis.call('HGET', KEYS[3], entry.number)
    if holder and holder ~= entry.id and not in_batch[holder]
        and redis.call('EXISTS', prefix .. holder) == 1 then
      table.insert(conflicts, position)
      table.insert(conflicts, entry.number)
      table.insert(conflicts, holder)
    end
  end
end
if #conflicts > 0 or ARGV[2] == '1' then return conflicts end

local function holders_except(index, value, id)
  local rest = {}
  local held = redis.call('HGET', index, value)
  if held then
    for other in string.gmatch(held, '%S+') do
      if other ~= id and redis.call('EXISTS', prefix .. other) == 1 then table.insert(rest, other) end
    end
  end
  return rest
end

local function release(index, value, id)
  local rest = holders_except(index, value, id)
  if #rest == 0 then redis.call('HDEL', index, value)
  else redis.call('HSET', index, value, table.concat(rest, ' ')) end
end

local function release_old(id)
  local old = redis.call('GET', prefix .. id)
  if not old then return end
  old = cjson.decode(old)
  if type(old.phones) == 'table' then
    for _, phone in ipairs(old.phones) do release(KEYS[2], phone, id) end
  end
  if type(old.registry_number) == 'string' and redis.call('HGET', KEYS[3], old.registry_number) == id then
    redis.call('HDEL', KEYS[3], old.registry_number)
  end
end

local cursor = 4
for _, entry in ipairs(batch) do
  local id = entry.id
  release_old(id)
  redis.call('SET', prefix .. id, ARGV[cursor])
  redis.call('HSET', KEYS[1], id, '1')
  for _, phone in ipairs(entry.phones) do
    local holders = holders_except(KEYS[2], phone, id)
    table.insert(holders, id)
    redis.call('HSET', KEYS[2], phone, table.concat(holders, ' '))
  end
  if entry.number ~= '' then redis.call('HSET', KEYS[3], entry.number, id) end
  local history = prefix .. id .. ':consultations'
  redis.call('DEL', history)
  for i = 1, entry.history do redis.call('RPUSH', history, ARGV[cursor + i]) end
  cursor = cursor + 1 + entry.history
end
return {}
"""

KEEP_LAST_CALL = r"""
-- KEEP_LAST_CALL: an agent answered a call: it becomes their last call, kept until its outcome
-- is saved. A previous last call whose outcome was never saved is recorded closed without a
-- note (its prepared entry goes to the call outcomes and, for a known citizen, their history).
-- KEYS[1] the agent's last-call key   KEYS[2] call-outcomes hash
-- ARGV[1] the new record (JSON with call_id, closed, closed_entry, history)   ARGV[2] its call id
-- A record's `closed` is its call outcome, `closed_entry` its line in the citizen's history,
-- `history` the citizen's consultations key (same hash tag) or ''.
-- Reply: the call id closed without a note, or nil.
local raw = redis.call('GET', KEYS[1])
local closed = false
if raw then
  local prev = cjson.decode(raw)
  if prev.call_id == ARGV[2] then return false end  -- the same answer reported twice
  redis.call('HSET', KEYS[2], prev.call_id, prev.closed)
  if prev.history ~= '' then redis.call('LPUSH', prev.history, prev.closed_entry) end
  closed = prev.call_id
end
redis.call('SET', KEYS[1], ARGV[1])
return closed
"""

SAVE_OUTCOME = r"""
-- SAVE_OUTCOME: the agent saved the outcome of their last call: it is recorded on the call and,
-- for a known citizen, in their history; the last-call record is done with. Exactly once.
-- KEYS[1] the agent's last-call key   KEYS[2] call-outcomes hash
-- ARGV[1] call id   ARGV[2] the call's outcome (JSON)   ARGV[3] the citizen's consultations key or ''
-- ARGV[4] the consultation entry for that history (JSON)
-- Reply: 1 saved, 0 that call is not (or no longer) the agent's last call.
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).call_id ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('LPUSH', ARGV[3], ARGV[4]) end
redis.call('DEL', KEYS[1])
return 1
"""

REPLACE_LAST_CALL = r"""
-- REPLACE_LAST_CALL: update the agent's last-call record (the agent identified the caller)
-- only while it is still that call.
-- KEYS[1] the agent's last-call key   ARGV[1] call id   ARGV[2] the new record (JSON)
-- Reply: 1 replaced, 0 that call is not (or no longer) the agent's last call.
local raw = redis.call('GET', KEYS[1])
if not raw or cjson.decode(raw).call_id ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""

RENEW_LEASE = r"""
-- RENEW_LEASE: extend a lease (the AMI connection's owner) only for the process holding it.
-- KEYS[1] the lease key   ARGV[1] this process's token   ARGV[2] TTL in ms
-- Reply: 1 renewed, 0 not held by this process.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE_LEASE = r"""
-- RELEASE_LEASE: give a lease up, only by the process holding it.
-- KEYS[1] the lease key   ARGV[1] this process's token
-- Reply: 1 released, 0 not held by this process.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

LOGIN_BEGIN = r"""
-- LOGIN_BEGIN: one desk login attempt asks each subject (the agent id typed, the client
-- address) for a try before the PIN is compared. An attempt is counted as a failure until
-- LOGIN_SUCCEEDED proves it right, so parallel guesses cannot overtake the count.
-- A subject locked, or with `limit` unproven attempts in its window, refuses (and is locked).
-- KEYS[1] login-locks zset (member -> locked until)   KEYS[1+i] subject i's hash (failures, locked_until)
-- ARGV[1] now (epoch s); then per subject i, four values:
--   member ("agent:<id>" / "addr:<address>"), limit, window seconds, lockout seconds
-- Reply: {} when every subject grants the try (each counted once), else {member, locked_until}
-- of the first subject refusing; nothing is counted then.
local now = tonumber(ARGV[1])
local n = #KEYS - 1
local function arg(i, k) return ARGV[1 + (i - 1) * 4 + k] end
local function lock(i)
  local untl = tostring(now + tonumber(arg(i, 4)))
  redis.call('HSET', KEYS[1 + i], 'locked_until', untl)
  redis.call('EXPIRE', KEYS[1 + i], math.ceil(tonumber(arg(i, 4))))
  redis.call('ZADD', KEYS[1], untl, arg(i, 1))
  return untl
end
for i = 1, n do
  local rec = redis.call('HMGET', KEYS[1 + i], 'failures', 'locked_until')
  if rec[2] then
    if tonumber(rec[2]) > now then return {arg(i, 1), rec[2]} end
    redis.call('DEL', KEYS[1 + i])  -- a lock that ran out: the subject starts afresh
    rec = {false, false}
  end
  if tonumber(rec[1] or '0') >= tonumber(arg(i, 2)) then return {arg(i, 1), lock(i)} end
end
for i = 1, n do
  if redis.call('HINCRBY', KEYS[1 + i], 'failures', 1) == 1 then
    redis.call('EXPIRE', KEYS[1 + i], math.ceil(tonumber(arg(i, 3))))
  end
end
return {}
"""

LOGIN_FAILED = r"""
-- LOGIN_FAILED: the PIN of an attempt LOGIN_BEGIN counted was wrong; lock each subject that
-- reached its limit. KEYS and ARGV as LOGIN_BEGIN's.
-- Reply: the latest locked-until among the subjects locked now ('' when none).
local now = tonumber(ARGV[1])
local latest = ''
for i = 1, #KEYS - 1 do
  local base = 1 + (i - 1) * 4
  local key = KEYS[1 + i]
  if tonumber(redis.call('HGET', key, 'failures') or '0') >= tonumber(ARGV[base + 2]) then
    latest = tostring(now + tonumber(ARGV[base + 4]))
    redis.call('HSET', key, 'locked_until', latest)
    redis.call('EXPIRE', key, math.ceil(tonumber(ARGV[base + 4])))
    redis.call('ZADD', KEYS[1], latest, ARGV[base + 1])
  end
end
return latest
"""

LOGIN_SUCCEEDED = r"""
-- LOGIN_SUCCEEDED: the PIN was right. The agent's count (and any lock) is cleared; the
-- address only gets this attempt back (its earlier failures stay: one agent's own PIN must
-- not wipe the count of guesses at other agents from the same address).
-- KEYS[1] login-locks   KEYS[2] the agent's hash   KEYS[3] the address's hash
-- ARGV[1] the agent's member in login-locks
-- Reply: 1.
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
if tonumber(redis.call('HGET', KEYS[3], 'failures') or '0') > 0 then
  redis.call('HINCRBY', KEYS[3], 'failures', -1)
end
return 1
"""

RECORD_VIEW = r"""
-- RECORD_VIEW: one view of a citizen's profile into the hotline's audit stream and the
-- citizen's own, under the same entry id. With a third key, only the first time that key
-- is seen (a desk snapshot repeated for the same agent, call and surface is one view).
-- KEYS[1] hotline stream   KEYS[2] the citizen's stream   KEYS[3] (optional) seen marker
-- ARGV[1] hotline stream cap   ARGV[2] citizen stream cap   ARGV[3] seen marker TTL (s)
-- ARGV[4..] field, value, ... of the entry
-- Reply: the entry id, or nil when the view was already recorded.
if KEYS[3] and not redis.call('SET', KEYS[3], '1', 'NX', 'EX', tonumber(ARGV[3])) then
  return false
end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], id, unpack(fields))
return id
"""

ALL_SCRIPTS = {
    "set_status": SET_STATUS,
    "enqueue": ENQUEUE,
    "accept": ACCEPT,
    "reject": REJECT,
    "expire_reservations": EXPIRE_RESERVATIONS,
    "end_call": END_CALL,
    "expire_wrapups": EXPIRE_WRAPUPS,
    "upsert_agent": UPSERT_AGENT,
    "remove_agent": REMOVE_AGENT,
    "extend_wrapup": EXTEND_WRAPUP,
    "queue_position": QUEUE_POSITION,
    "claim_due": CLAIM_DUE,
    "find_citizen": FIND_CITIZEN,
    "import_citizens": IMPORT_CITIZENS,
    "keep_last_call": KEEP_LAST_CALL,
    "save_outcome": SAVE_OUTCOME,
    "replace_last_call": REPLACE_LAST_CALL,
    "renew_lease": RENEW_LEASE,
    "release_lease": RELEASE_LEASE,
    "login_begin": LOGIN_BEGIN,
    "login_failed": LOGIN_FAILED,
    "login_succeeded": LOGIN_SUCCEEDED,
    "record_view": RECORD_VIEW,
}
