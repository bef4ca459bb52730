-- Marks the held answers a write made stale (the next read fetches them again,
-- at once rather than at the refresh budget's pace: marked '2'; and they are
-- served only as a fallback), and bumps the generations of their
-- operations so that reads in flight anywhere are not stored afterwards.
-- KEYS: for each operation, its index set then its generation
-- ARGV: for each operation, the prefix (after the key prefix) of the stale keys; last: the key prefix
local base = ARGV[#ARGV]
local marked = 0
for i = 1, #KEYS / 2 do
  local index, generation = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('INCR', generation)
  local prefix = base .. 'cache:' .. ARGV[i]
  for _, key in ipairs(redis.call('SMEMBERS', index)) do
    if string.sub(key, 1, #prefix) == prefix then
      if redis.call('EXISTS', key) == 1 then
        redis.call('HSET', key, 'marked', '2')
        marked = marked + 1
      else
        redis.call('SREM', index, key)
      end
    end
  end
end
return marked
