// The Lua scripts behind the Redis job records: each state change, its indexes, owner counters, its `state` event and
// the change notification happen in one atomic script, so replicas and workers never see half a transition.
// Keys live under ARGV[1] (`<redisPrefix>:jobdb:`): job:<id> (hash), all / owner:<o> / state:<s> (sorted sets by
// submission order), running / pending (owner → count), events:<id> (sorted set by event id), seq and event-seq.

const COMMON = `
local base = ARGV[1]
local function key(...) return base .. table.concat({...}) end
local function event(id, kind, payload, at)
  local eid = redis.call('INCR', key('event-seq'))
  redis.call('ZADD', key('events:', id), eid, eid .. ' ' .. cjson.encode({ kind = kind, at = tonumber(at), data = payload }))
  return eid
end
local function stateEvent(id, at)
  local j = key('job:', id)
  local s, code, msg = unpack(redis.call('HMGET', j, 'state', 'error_code', 'error_message'))
  local data = { state = s }
  if code and code ~= '' then data.error = { code = code, message = msg } end
  return event(id, 'state', data, at)
end
local function move(id, from, to)
  local j = key('job:', id)
  local seq = redis.call('HGET', j, 'seq')
  redis.call('ZREM', key('state:', from), id)
  redis.call('ZADD', key('state:', to), seq, id)
  redis.call('HSET', j, 'state', to)
end
local function count(name, owner, by)
  if redis.call('HINCRBY', key(name), owner, by) <= 0 then redis.call('HDEL', key(name), owner) end
end
local function changed(id) redis.call('PUBLISH', key('changed'), id) end
local final = { succeeded = true, failed = true, cancelled = true }
-- A running record whose worker stopped (its BullMQ lock expired) becomes what it is now: queued again to resume, or
-- final: cancelled when a cancel was pending, failed with JOB_PROCESS_DIED when it already ran maxRuns times (runs a
-- graceful shutdown released do not count: BullMQ does not count stalls as attempts, so the record does). Returns the new state.
local function takeBack(id, now, maxRuns, exhausted)
  local j = key('job:', id)
  local owner, cancel, attempts, released = unpack(redis.call('HMGET', j, 'owner', 'cancel_requested', 'attempts', 'released'))
  local runs = tonumber(attempts or '0') - tonumber(released or '0')
  local to = (cancel == '1' and 'cancelled') or (runs >= maxRuns and 'failed') or 'queued'
  count('running', owner, -1)
  redis.call('HDEL', j, 'worker', 'token')
  local outcome = to == 'queued' and 're-queued, it resumes' or to
  event(id, 'log', { level = 'warning', message = 'the worker running the job stopped (its lock expired): ' .. outcome }, now)
  move(id, 'running', to)
  if to ~= 'queued' then
    redis.call('HSET', j, 'finished_at', now)
    if to == 'failed' then redis.call('HSET', j, 'error_code', 'JOB_PROCESS_DIED', 'error_message', exhausted) end
    count('pending', owner, -1)
  end
  stateEvent(id, now)
  return to
end
`;

/** ARGV: base, id, type, params, runParams, owner, now, maxPending (-1: none) → seq, or 0 when over maxPending. */
export const SUBMIT = `${COMMON}
local id, owner, now, maxPending = ARGV[2], ARGV[6], ARGV[7], tonumber(ARGV[8])
if maxPending >= 0 and tonumber(redis.call('HGET', key('pending'), owner) or '0') >= maxPending then return 0 end
local seq = redis.call('INCR', key('seq'))
redis.call('HSET', key('job:', id), 'seq', seq, 'id', id, 'type', ARGV[3], 'state', 'queued', 'params', ARGV[4], 'run_params', ARGV[5],
  'owner', owner, 'step', 0, 'created_at', now, 'attempts', 0, 'cancel_requested', 0)
redis.call('ZADD', key('all'), seq, id)
redis.call('ZADD', key('owner:', owner), seq, id)
redis.call('ZADD', key('state:queued'), seq, id)
count('pending', owner, 1)
stateEvent(id, now)
changed(id)
return seq`;

/**
 * A BullMQ delivery of the job to a worker, applied to the record. ARGV: base, id, worker, token, maxRunningPerOwner,
 * now, maxRuns, exhausted message → 'ok', 'missing', 'final' (cancelled before it ran, or failed just now: drop the
 * delivery) or 'limited' (owner at its limit). A record still 'running' is a redelivery after its worker died (BullMQ's
 * stalled-job check) that no SWEEP has seen yet: taken back as SWEEP does, it resumes unless it is final now. A queued
 * record that already ran maxRuns times (each ended by a died process, retried) fails with JOB_PROCESS_DIED.
 */
export const CLAIM = `${COMMON}
local id, worker, token, limit, now, maxRuns, exhausted = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]), ARGV[8]
local j = key('job:', id)
local state, owner = unpack(redis.call('HMGET', j, 'state', 'owner'))
if not state then return 'missing' end
if final[state] then return 'final' end
local stale = state == 'running'
if stale and takeBack(id, now, maxRuns, exhausted) ~= 'queued' then
  changed(id)
  return 'final'
end
local attempts, released = unpack(redis.call('HMGET', j, 'attempts', 'released'))
if tonumber(attempts or '0') - tonumber(released or '0') >= maxRuns then
  move(id, 'queued', 'failed')
  redis.call('HSET', j, 'finished_at', now, 'error_code', 'JOB_PROCESS_DIED', 'error_message', exhausted)
  count('pending', owner, -1)
  stateEvent(id, now)
  changed(id)
  return 'final'
end
-- 'local' owns every job when API keys are off: as in embedded mode, only the workers' concurrency limits it.
if owner ~= 'local' and tonumber(redis.call('HGET', key('running'), owner) or '0') >= limit then
  if stale then changed(id) end
  return 'limited'
end
move(id, 'queued', 'running')
count('running', owner, 1)
if not redis.call('HGET', j, 'started_at') then redis.call('HSET', j, 'started_at', now) end
redis.call('HINCRBY', j, 'attempts', 1)
redis.call('HSET', j, 'worker', worker, 'token', token, 'heartbeat_at', now)
stateEvent(id, now)
changed(id)
return 'ok'`;

/** ARGV: base, id, worker, now → cancel_requested (0/1); the heartbeat counts only from the worker holding the job. */
export const HEARTBEAT = `${COMMON}
local j = key('job:', ARGV[2])
if redis.call('HGET', j, 'worker') == ARGV[3] then redis.call('HSET', j, 'heartbeat_at', ARGV[4]) end
return tonumber(redis.call('HGET', j, 'cancel_requested') or '0')`;

/** ARGV: base, id, step, total ('' for null). */
export const PROGRESS = `${COMMON}
local j = key('job:', ARGV[2])
if redis.call('HGET', j, 'state') == 'running' then redis.call('HSET', j, 'step', ARGV[3], 'total', ARGV[4]) end
return 1`;

/** ARGV: base, id, kind, data (JSON), now → the event id. */
export const APPEND_EVENT = `${COMMON}
local id = ARGV[2]
local eid = redis.call('INCR', key('event-seq'))
redis.call('ZADD', key('events:', id), eid, eid .. ' {"kind":' .. cjson.encode(ARGV[3]) .. ',"at":' .. ARGV[5] .. ',"data":' .. ARGV[4] .. '}')
changed(id)
return eid`;

/** ARGV: base, id, step, total, now → the progress event's id: PROGRESS and its event ({step, total}) in one script. */
export const PROGRESS_EVENT = `${COMMON}
local id, step, total, now = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local j = key('job:', id)
if redis.call('HGET', j, 'state') == 'running' then redis.call('HSET', j, 'step', step, 'total', total) end
local eid = event(id, 'progress', { step = step, total = total }, now)
changed(id)
return eid`;

/**
 * ARGV: base, id, token ('' for any), state, error code, error message, now, retry message ('' when final), released
 * ('1': a graceful shutdown handed it back, a run CLAIM does not count against maxRuns) → the state after it. Only the
 * delivery holding the job finishes it; with a retry message it goes back to queued (BullMQ's backoff).
 */
export const FINISH = `${COMMON}
local id, token, to, code, msg, now, retry = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local j = key('job:', id)
local state, owner, holder = unpack(redis.call('HMGET', j, 'state', 'owner', 'token'))
if state ~= 'running' or (token ~= '' and holder ~= token) then return state or '' end
count('running', owner, -1)
redis.call('HDEL', j, 'worker', 'token')
if retry ~= '' then
  if ARGV[9] == '1' then redis.call('HINCRBY', j, 'released', 1) end
  event(id, 'log', { level = 'warning', message = retry }, now)
  move(id, 'running', 'queued')
else
  move(id, 'running', to)
  count('pending', owner, -1)
  redis.call('HSET', j, 'finished_at', now, 'error_code', code, 'error_message', msg)
end
stateEvent(id, now)
changed(id)
return redis.call('HGET', j, 'state')`;

/** ARGV: base, id, now → the state after it ('' when no such job). */
export const CANCEL = `${COMMON}
local id, now = ARGV[2], ARGV[3]
local j = key('job:', id)
local state, owner = unpack(redis.call('HMGET', j, 'state', 'owner'))
if not state then return '' end
if state == 'queued' then
  move(id, 'queued', 'cancelled')
  redis.call('HSET', j, 'finished_at', now, 'cancel_requested', 1, 'cancel_requested_at', now)
  count('pending', owner, -1)
  stateEvent(id, now)
elseif state == 'running' then
  redis.call('HSET', j, 'cancel_requested', 1)
  redis.call('HSETNX', j, 'cancel_requested_at', now)
end
changed(id)
return redis.call('HGET', j, 'state')`;

/**
 * Every Redis-queue process (API replicas too) runs this on a timer, and at start: each running record whose BullMQ
 * lock key is gone (its worker died or was cut off past jobs.lockDurationMs) is taken back (takeBack), so its state is
 * truthful even when no consumer is alive to redeliver it. A job whose lock is held (a worker renews it while the job
 * computes, however long) is left alone. One script for all of them, so replicas sweeping at once change each record
 * once. ARGV: base, BullMQ key prefix (`<redisPrefix>:jobs:`), now, maxRuns, exhausted message → how many it changed.
 */
export const SWEEP = `${COMMON}
local bull, now, maxRuns, exhausted = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local n = 0
for _, id in ipairs(redis.call('ZRANGE', key('state:running'), 0, -1)) do
  if redis.call('EXISTS', bull .. id .. ':lock') == 0 then
    takeBack(id, now, maxRuns, exhausted)
    changed(id)
    n = n + 1
  end
end
return n`;
