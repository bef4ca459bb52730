-- One turn at the shared sliding window, fair between clients: the rules of
-- the policy's window module (window/fair.rs), for every replica at once.
-- Each call costs O(waiting clients), not O(waiting requests): a client's
-- requests wait in a sorted set of its own.
-- KEYS: 1 window (zset: sends, member "ticket:client", score = send ms),
--       2 waiting (zset: clients with waiting requests), 3 leases (zset:
--       members, score = lease expiry ms), 4 pause (string with PX ttl),
--       5 tickets (counter), 6 granted (set: members granted a turn not yet
--       taken), 7 served (zset: client, score = number of its last grant),
--       8 grants (counter)
-- ARGV: 1 member ('' takes a new ticket), 2 client, 3 max, 4 span ms,
--       5 share slots, 6 share span ms, 7 lease ms,
--       8 spend key prefix (the client is appended), 9 monthly cap (0: none),
--       10 spend key ttl ms, 11 the prefix of per-client keys (then
--       "queue:" or "sent:" and the client)
-- Returns {status, estimate ms, wake ms, member}: status 1 admitted, 0 wait
-- (likely admitted in `estimate`; ask again in `wake`), -1 the client has
-- made its monthly calls.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member = ARGV[1]
local max = tonumber(ARGV[3])
local span = tonumber(ARGV[4])
local slots = tonumber(ARGV[5])
local share_span = tonumber(ARGV[6])
local lease = tonumber(ARGV[7])
local spend_prefix = ARGV[8]
local cap = tonumber(ARGV[9])
local own_prefix = ARGV[11]

local function client_of(m)
  return string.match(m, '^%d+:(.*)$')
end
local function ticket_of(m)
  return tonumber(string.match(m, '^(%d+):'))
end
local function queue_of(c)
  return own_prefix .. 'queue:' .. c
end
local function sent_of(c)
  return own_prefix .. 'sent:' .. c
end
-- Out of its client's queue (and the waiting clients, if it was the last).
local function unqueue(m)
  local c = client_of(m)
  redis.call('ZREM', queue_of(c), m)
  if redis.call('ZCARD', queue_of(c)) == 0 then
    redis.call('ZREM', KEYS[2], c)
  end
end

-- A new ticket reserves one of the client's monthly calls.
if member == '' then
  if cap > 0 then
    local k = spend_prefix .. ARGV[2]
    local n = redis.call('INCR', k)
    if n == 1 then
      redis.call('PEXPIRE', k, ARGV[10])
    end
    if n > cap then
      redis.call('DECR', k)
      return {-1, 0, 0, ''}
    end
  end
  member = redis.call('INCR', KEYS[5]) .. ':' .. ARGV[2]
end
local mine = client_of(member)

-- Forget sends older than the span; waiters that stopped renewing their
-- lease leave, giving back a turn granted to them and their reservation.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
for _, gone in ipairs(dead) do
  unqueue(gone)
  redis.call('ZREM', KEYS[3], gone)
  if redis.call('SREM', KEYS[6], gone) == 1 then
    redis.call('ZREM', KEYS[1], gone)
    redis.call('ZREM', sent_of(client_of(gone)), gone)
  end
  if cap > 0 then
    local k = spend_prefix .. client_of(gone)
    if redis.call('DECR', k) < 0 then
      redis.call('DEL', k)
    end
  end
end

-- A turn granted since the last ask: take it, counted from now.
if redis.call('SREM', KEYS[6], member) == 1 then
  if redis.call('ZSCORE', KEYS[1], member) then
    redis.call('ZADD', KEYS[1], now, member)
    redis.call('ZADD', sent_of(mine), now, member)
    redis.call('ZREM', KEYS[3], member)
    return {1, 0, 0, member}
  end
  -- Its send left the span before it was taken: wait again, in its place.
  redis.call('ZREM', sent_of(mine), member)
end

-- Join (or stay in) its client's queue, renewing the lease.
redis.call('ZADD', queue_of(mine), ticket_of(member), member)
redis.call('ZADD', KEYS[2], 0, mine)
redis.call('ZADD', KEYS[3], now + lease, member)
redis.call('PEXPIRE', queue_of(mine), lease * 2)
for i = 2, 3 do
  redis.call('PEXPIRE', KEYS[i], lease * 2)
end

-- Each waiting client: its queue's length and head, its sends within the
-- span and within its share's span, when it was last served.
local clients = redis.call('ZRANGE', KEYS[2], 0, -1)
local state = {}
for _, c in ipairs(clients) do
  redis.call('ZREMRANGEBYSCORE', sent_of(c), '-inf', now - span)
  local head = redis.call('ZRANGE', queue_of(c), 0, 0)[1]
  if not head then
    redis.call('ZREM', KEYS[2], c)
  end
  state[c] = {
    len = redis.call('ZCARD', queue_of(c)),
    head = head and ticket_of(head) or 0,
    sent = redis.call('ZCARD', sent_of(c)),
    paced = redis.call('ZCOUNT', sent_of(c), '(' .. (now - share_span), '+inf'),
    served = tonumber(redis.call('ZSCORE', KEYS[7], c) or 0),
  }
end

-- When the send of `rank` fits `limit` sends per `within` ms, given `list`
-- (send times, oldest first, `count` of them): as fair.rs's slot_time.
local function slot_time(list, count, limit, within, rank)
  local index = count + rank - limit
  if index < 0 then
    return now
  end
  local laps = 0
  if index >= count then
    laps = math.floor((index - count) / limit) + 1
    index = index - laps * limit
  end
  local base = now
  if index >= 0 then
    base = list(index) + within
  end
  local at = base + laps * within
  if at < now then
    at = now
  end
  return at
end
-- The index-th (0: oldest) send of the window, and when a client's pacing
-- lets its `rank`-th next send go (one lookup each, however many sends).
local function window_at(index)
  return tonumber(redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')[2])
end
local function pacing_time(c, rank)
  local within = redis.call('ZCOUNT', sent_of(c), '(' .. (now - share_span), '+inf')
  local first = redis.call('ZCARD', sent_of(c)) - within
  local function at(index)
    local i = first + index
    return tonumber(redis.call('ZRANGE', sent_of(c), i, i, 'WITHSCORES')[2])
  end
  return slot_time(at, within, slots, share_span, rank)
end
-- Its place in the order: under its share first, then served longest ago,
-- then waiting longest.
local function before(a, b)
  local sa, sb = state[a], state[b]
  local oa, ob = sa.sent >= slots and 1 or 0, sb.sent >= slots and 1 or 0
  if oa ~= ob then
    return oa < ob
  end
  if sa.served ~= sb.served then
    return sa.served < sb.served
  end
  return sa.head < sb.head
end

-- Grant every free slot, each to the first in the order among the clients
-- whose pacing lets them send.
local paused = redis.call('PTTL', KEYS[4])
local count = redis.call('ZCARD', KEYS[1])
local admitted = false
if paused <= 0 then
  while count < max do
    local best = nil
    for _, c in ipairs(clients) do
      local s = state[c]
      if s.len > 0 and s.paced < slots and (not best or before(c, best)) then
        best = c
      end
    end
    if not best then
      break
    end
    local m = redis.call('ZPOPMIN', queue_of(best))[1]
    redis.call('ZADD', KEYS[1], now, m)
    redis.call('ZADD', sent_of(best), now, m)
    redis.call('PEXPIRE', sent_of(best), span * 2)
    count = count + 1
    local s = state[best]
    s.len = s.len - 1
    s.sent = s.sent + 1
    s.paced = s.paced + 1
    local next_head = redis.call('ZRANGE', queue_of(best), 0, 0)[1]
    s.head = next_head and ticket_of(next_head) or 0
    if s.len == 0 then
      redis.call('ZREM', KEYS[2], best)
    end
    s.served = redis.call('INCR', KEYS[8])
    redis.call('ZADD', KEYS[7], s.served, best)
    if m == member then
      redis.call('ZREM', KEYS[3], m)
      admitted = true
    else
      redis.call('SADD', KEYS[6], m)
    end
  end
  redis.call('PEXPIRE', KEYS[1], span * 2)
  redis.call('PEXPIRE', KEYS[6], lease * 2)
end
-- Clients not waiting are not kept in the order beyond a span.
redis.call('ZREMRANGEBYRANK', KEYS[7], 0, -(#clients + max + 1))
redis.call('PEXPIRE', KEYS[7], span * 2 + lease)

if admitted then
  return {1, 0, 0, member}
end

-- The caller's likely turn: after its client's earlier tickets and pacing,
-- and after the sends that go before it taking turns; and the next moment
-- a slot could be granted to anyone.
local k = redis.call('ZRANK', queue_of(mine), member) or 0
local ahead = k
for _, d in ipairs(clients) do
  local len = state[d].len
  if d ~= mine and len > 0 then
    ahead = ahead + math.min(len, k)
    if len > k and before(d, mine) then
      ahead = ahead + 1
    end
  end
end
local estimate = slot_time(window_at, count, max, span, ahead)
local own_turn = pacing_time(mine, k)
if own_turn > estimate then
  estimate = own_turn
end
local wake
if paused > 0 then
  wake = now + paused
  if wake > estimate then
    estimate = wake
  end
elseif count >= max then
  wake = window_at(0) + span
else
  for _, d in ipairs(clients) do
    if state[d].len > 0 then
      local at = pacing_time(d, 0)
      if not wake or at < wake then
        wake = at
      end
    end
  end
end
if not wake or wake > estimate then
  wake = estimate
end
return {0, estimate - now, wake - now, member}
