-- A read finished (a leader's, or a background refresh): store a success unless
-- a change touched the operation meanwhile, drop the held answer when the
-- upstream says the read is gone, release the lock, and hand the answer to the
-- followers.
-- KEYS: 1 held answer (hash), 2 leader lock, 3 generation of the operation, 4 index of the operation,
--       5 revalidation marker
-- ARGV: 1 lock token ('' for a refresh), 2 generation when it began, 3 lifetime ms
--       (0: do not store), 4 encoded answer, 5 channel, 6 message for followers
--       ('' for none), 7 drop what is held (1|0), 8 revalidation interval ms (the
--       marker holds the next revalidation or budgeted re-read off that long)
local stored = 0
if (redis.call('GET', KEYS[3]) or '0') == ARGV[2] then
  local lifetime = tonumber(ARGV[3])
  if lifetime > 0 then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], 'answer', ARGV[4], 'fetched', now)
    redis.call('PEXPIRE', KEYS[1], lifetime)
    redis.call('SADD', KEYS[4], KEYS[1])
    if redis.call('PTTL', KEYS[4]) < lifetime then
      redis.call('PEXPIRE', KEYS[4], lifetime + 1000)
    end
    if tonumber(ARGV[8]) > 0 then
      redis.call('SET', KEYS[5], '1', 'PX', ARGV[8])
    end
    stored = 1
  elseif ARGV[7] == '1' then
    redis.call('DEL', KEYS[1])
  end
end
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
if ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
return stored
