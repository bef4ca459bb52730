-- A read begins: the held answer (fresh, or stale with maybe the one refresh of
-- the interval to run), or the lead (the lock, with what is held as a fallback),
-- or a wait for the leader elsewhere.
-- KEYS: 1 held answer (hash: answer, fetched ms, marked), 2 leader lock,
--       3 generation of the operation, 4 revalidation marker
-- ARGV: 1 lock token, 2 lock ttl ms, 3 fresh ms, 4 revalidation interval ms,
--       5 may call the upstream (1|0), 6 re-read interval ms of a changed answer
--       (0: at once; under a budget, the revalidation interval) of an event's change
-- Returns {'hit', answer, age ms} | {'stale', answer, age ms, refresh (1|0), generation}
--       | {'lead', generation, fallback answer or '', its age ms} | {'wait', generation}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local generation = redis.call('GET', KEYS[3]) or '0'
local held = redis.call('HMGET', KEYS[1], 'answer', 'fetched', 'marked')
local fallback, fallback_age = '', 0
if held[1] then
  local age = math.max(now - (tonumber(held[2]) or now), 0)
  local current = held[3] ~= '1'
  if current and age < tonumber(ARGV[3]) then
    return {'hit', held[1], age}
  end
  -- An answer an event changed ('1'; a write's is '2') waits for its turn under a
  -- budget (the marker of the last read).
  local paced = held[3] == '1' and tonumber(ARGV[6]) > 0
      and not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[6])
  if current or ARGV[5] ~= '1' or paced then
    local refresh = 0
    if current and ARGV[5] == '1' and age >= tonumber(ARGV[4])
        and redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[4]) then
      refresh = 1
    end
    return {'stale', held[1], age, refresh, generation}
  end
  fallback, fallback_age = held[1], age
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'lead', generation, fallback, fallback_age}
end
return {'wait', generation}
