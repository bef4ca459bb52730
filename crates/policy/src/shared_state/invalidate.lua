-- Drops cached reads that a change made stale, and bumps the generation so that
-- reads in flight anywhere are not stored afterwards.
-- KEYS: 1 invalidation generation, 2.. one index set per operation
-- ARGV: for each index, the prefix (after the key prefix) of the stale keys; last: the key prefix
local base = ARGV[#ARGV]
redis.call('INCR', KEYS[1])
local dropped = 0
for i = 2, #KEYS do
  local prefix = base .. 'cache:' .. ARGV[i - 1]
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if string.sub(key, 1, #prefix) == prefix then
      dropped = dropped + redis.call('DEL', key)
      redis.call('SREM', KEYS[i], key)
    end
  end
end
return dropped
