-- A leader's read finished: store it (a success, unless a change made it stale
-- meanwhile), release the lock, and hand the answer to the followers.
-- KEYS: 1 cached answer, 2 leader lock, 3 invalidation generation, 4 index of the operation
-- ARGV: 1 lock token, 2 generation when the lead was taken, 3 ttl ms (0: do not store),
--       4 encoded answer, 5 channel, 6 message for followers
local stored = 0
if tonumber(ARGV[3]) > 0 and (redis.call('GET', KEYS[3]) or '0') == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3])
  redis.call('SADD', KEYS[4], KEYS[1])
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[3]) * 2 + 1000)
  stored = 1
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return stored
