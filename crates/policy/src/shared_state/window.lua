-- One turn at the shared sliding window, fair between clients: the rules of
-- the policy's window module (window/fair.rs), for every replica at once.
-- KEYS: 1 window (zset: sends, member "ticket:client", score = send ms),
--       2 queue (zset: waiting members, score = ticket), 3 leases (zset:
--       members, score = lease expiry ms), 4 pause (string with PX ttl),
--       5 tickets (counter), 6 granted (set: members granted a turn not yet
--       taken), 7 served (zset: client, score = number of its last grant),
--       8 grants (counter)
-- ARGV: 1 member ('' takes a new ticket), 2 client, 3 max, 4 span ms,
--       5 share slots, 6 share span ms, 7 lease ms,
--       8 spend key prefix (the client is appended), 9 monthly cap (0: none),
--       10 spend key ttl ms
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

local function client_of(m)
  return string.match(m, '^%d+:(.*)$')
end
local function ticket_of(m)
  return tonumber(string.match(m, '^(%d+):'))
end
local function refund(m)
  if cap > 0 then
    local k = spend_prefix .. client_of(m)
    if redis.call('DECR', k) < 0 then
      redis.call('DEL', k)
    end
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

-- Forget sends older than the span; waiters that stopped renewing their
-- lease leave, giving back a turn granted to them and their reservation.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 1000)
for _, gone in ipairs(dead) do
  redis.call('ZREM', KEYS[2], gone)
  redis.call('ZREM', KEYS[3], gone)
  if redis.call('SREM', KEYS[6], gone) == 1 then
    redis.call('ZREM', KEYS[1], gone)
  end
  refund(gone)
end

-- A turn granted since the last ask: take it, counted from now.
if redis.call('SREM', KEYS[6], member) == 1 then
  if redis.call('ZSCORE', KEYS[1], member) then
    redis.call('ZADD', KEYS[1], now, member)
    redis.call('ZREM', KEYS[3], member)
    return {1, 0, 0, member}
  end
  -- Its send left the span before it was taken: wait again, in its place.
end

-- Join (or stay in) the queue, renewing the lease.
redis.call('ZADD', KEYS[2], ticket_of(member), member)
redis.call('ZADD', KEYS[3], now + lease, member)
for i = 2, 3 do
  redis.call('PEXPIRE', KEYS[i], lease * 2)
end

-- Sends by client (oldest first), waiting members by client (ticket order).
local own = {}
local all = {}
local sends = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #sends, 2 do
  local c = client_of(sends[i])
  local at = tonumber(sends[i + 1])
  own[c] = own[c] or {}
  table.insert(own[c], at)
  table.insert(all, at)
end
local waiting = {}
local clients = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local c = client_of(m)
  if not waiting[c] then
    waiting[c] = {}
    table.insert(clients, c)
  end
  table.insert(waiting[c], m)
end
local served = {}
for _, c in ipairs(clients) do
  served[c] = tonumber(redis.call('ZSCORE', KEYS[7], c) or 0)
end

-- When the send of `rank` fits `limit` sends per `within` ms, given the
-- sends list[from..] (oldest first): as fair.rs's slot_time.
local function slot_time(list, from, limit, within, rank)
  local n = #list - from + 1
  local index = n + rank - limit
  if index < 0 then
    return now
  end
  local laps = 0
  if index >= n then
    laps = math.floor((index - n) / limit) + 1
    index = index - laps * limit
  end
  local base = now
  if index >= 0 then
    base = list[from + index] + within
  end
  local at = base + laps * within
  if at < now then
    at = now
  end
  return at
end
-- A client's sends within its share's span: the list and where they start.
local function pacing(c)
  local list = own[c] or {}
  for i = 1, #list do
    if now - list[i] < share_span then
      return list, i
    end
  end
  return list, #list + 1
end
local function paced_ready(c)
  local list, from = pacing(c)
  return #list - from + 1 < slots
end
-- Its place in the order: under its share first, then served longest ago,
-- then waiting longest.
local function key_of(c)
  local over = 0
  if own[c] and #own[c] >= slots then
    over = 1
  end
  return {over, served[c] or 0, ticket_of(waiting[c][1])}
end
local function before(a, b)
  if a[1] ~= b[1] then
    return a[1] < b[1]
  end
  if a[2] ~= b[2] then
    return a[2] < b[2]
  end
  return a[3] < b[3]
end

-- Grant every free slot, each to the first in the order among the
-- clients whose pacing lets them send.
local paused = redis.call('PTTL', KEYS[4])
local count = #all
local admitted = false
if paused <= 0 then
  while count < max do
    local best, best_key = nil, nil
    for _, c in ipairs(clients) do
      if #waiting[c] > 0 and paced_ready(c) then
        local k = key_of(c)
        if not best or before(k, best_key) then
          best, best_key = c, k
        end
      end
    end
    if not best then
      break
    end
    local m = table.remove(waiting[best], 1)
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZADD', KEYS[1], now, m)
    own[best] = own[best] or {}
    table.insert(own[best], now)
    table.insert(all, now)
    count = count + 1
    local g = redis.call('INCR', KEYS[8])
    served[best] = g
    redis.call('ZADD', KEYS[7], g, best)
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

-- Clients neither waiting nor with sends in the span are forgotten.
for _, c in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do
  if not own[c] and not (waiting[c] and #waiting[c] > 0) then
    redis.call('ZREM', KEYS[7], c)
  end
end
redis.call('PEXPIRE', KEYS[7], span * 2 + lease)

if admitted then
  return {1, 0, 0, member}
end

-- The caller's likely turn: after its client's earlier tickets and pacing,
-- and after the sends that go before it taking turns; and the next moment
-- a slot could be granted to anyone.
local mine = client_of(member)
local k = 0
for i, m in ipairs(waiting[mine]) do
  if m == member then
    k = i - 1
  end
end
local my_key = key_of(mine)
local ahead = k
for _, d in ipairs(clients) do
  local len = #waiting[d]
  if d ~= mine and len > 0 then
    ahead = ahead + math.min(len, k)
    if len > k and before(key_of(d), my_key) then
      ahead = ahead + 1
    end
  end
end
table.sort(all)
local estimate = slot_time(all, 1, max, span, ahead)
local list, from = pacing(mine)
local own_turn = slot_time(list, from, slots, share_span, k)
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
  wake = all[1] + span
else
  for _, d in ipairs(clients) do
    if #waiting[d] > 0 then
      local l, f = pacing(d)
      local at = slot_time(l, f, slots, share_span, 0)
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
