-- A read begins: the cached answer, or the lead (the lock), or a wait.
-- KEYS: 1 cached answer, 2 leader lock, 3 invalidation generation
-- ARGV: 1 lock token, 2 lock ttl ms
-- Returns {'hit', answer} | {'lead', generation} | {'wait', generation}.
local cached = redis.call('GET', KEYS[1])
if cached then
  return {'hit', cached}
end
local generation = redis.call('GET', KEYS[3]) or '0'
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'lead', generation}
end
return {'wait', generation}
