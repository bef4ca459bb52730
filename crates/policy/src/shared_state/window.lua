-- One turn at the shared sliding window, in FIFO ticket order.
-- KEYS: 1 window (zset: sends, score = send ms), 2 queue (zset: tickets, score = ticket),
--       3 leases (zset: tickets, score = lease expiry ms), 4 pause (string with PX ttl),
--       5 tickets (counter)
-- ARGV: 1 ticket (0: take a new one), 2 max, 3 span ms (window + margin), 4 lease ms
-- Returns {admitted (0|1), wait ms, rank, ticket}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ticket = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local span = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
if ticket == 0 then
  ticket = redis.call('INCR', KEYS[5])
end

-- Forget sends older than the span, and waiters that stopped renewing their lease.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, gone in ipairs(dead) do
  redis.call('ZREM', KEYS[2], gone)
  redis.call('ZREM', KEYS[3], gone)
end

-- Join (or stay in) the queue, renewing the lease.
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('ZADD', KEYS[3], now + lease, ticket)
redis.call('PEXPIRE', KEYS[2], lease * 2)
redis.call('PEXPIRE', KEYS[3], lease * 2)
local rank = redis.call('ZRANK', KEYS[2], ticket)
local count = redis.call('ZCARD', KEYS[1])

-- When this waiter's slot frees: the (count - max + rank)-th oldest send must
-- leave the span first; past the sends in the window, whole spans of waiters.
local index = count - max + rank
local laps = 0
if index >= count then
  laps = math.floor((index - count) / max) + 1
  index = index - laps * max
end
local at = now
if index >= 0 then
  local entry = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
  if entry[2] then
    at = tonumber(entry[2]) + span
  end
end
local wait = at + laps * span - now
local paused = redis.call('PTTL', KEYS[4])
if paused > wait then
  wait = paused
end
if wait < 0 then
  wait = 0
end

if rank == 0 and wait == 0 then
  redis.call('ZADD', KEYS[1], now, ticket)
  redis.call('PEXPIRE', KEYS[1], span * 2)
  redis.call('ZREM', KEYS[2], ticket)
  redis.call('ZREM', KEYS[3], ticket)
  return {1, 0, 0, ticket}
end
return {0, wait, rank, ticket}
