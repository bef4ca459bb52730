-- The month's quota shared by every replica (hash: calls, learned, callsAt,
-- refusedUntil, offset) and what the rate window holds now, in one step.
-- KEYS: 1 quota hash, 2 window (zset of sends), 3 leases (zset: every waiter
--       of window.lua), 4 granted (set: waiters granted a turn not yet taken,
--       already counted as sends), 5 pause,
--       6.. the cache's index sets (their sizes say how many answers are held)
-- ARGV: 1 what to do: 'read' | 'count' | 'learn' | 'refused' | 'clock'; 2 its value
--       (learn: the learned JSON; refused: until, Unix ms; clock: offset ms); 3 window span ms
-- Returns {calls, learned or '', callsAt, refusedUntil, offset, sends in the span,
--          the oldest of them (ms, 0: none), waiters, pause ms left, now ms, answers held}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op = ARGV[1]
if op == 'count' then
  redis.call('HINCRBY', KEYS[1], 'calls', 1)
elseif op == 'learn' then
  redis.call('HSET', KEYS[1], 'learned', ARGV[2], 'callsAt', redis.call('HGET', KEYS[1], 'calls') or '0')
elseif op == 'refused' then
  local until_ms = tonumber(ARGV[2])
  if until_ms > (tonumber(redis.call('HGET', KEYS[1], 'refusedUntil') or '0') or 0) then
    redis.call('HSET', KEYS[1], 'refusedUntil', until_ms)
  end
elseif op == 'clock' then
  redis.call('HSET', KEYS[1], 'offset', ARGV[2])
end
local q = redis.call('HMGET', KEYS[1], 'calls', 'learned', 'callsAt', 'refusedUntil', 'offset')
local since = now - tonumber(ARGV[3])
local sends = redis.call('ZCOUNT', KEYS[2], since, '+inf')
local oldest = redis.call('ZRANGEBYSCORE', KEYS[2], since, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
local waiters = math.max(redis.call('ZCARD', KEYS[3]) - redis.call('SCARD', KEYS[4]), 0)
local pause = math.max(redis.call('PTTL', KEYS[5]), 0)
local held = 0
for i = 6, #KEYS do
  held = held + redis.call('SCARD', KEYS[i])
end
return {tonumber(q[1] or '0'), q[2] or '', tonumber(q[3] or '0'), tonumber(q[4] or '0'),
        tonumber(q[5] or '0'), sends, tonumber(oldest[2] or '0'), waiters, pause, now, held}
