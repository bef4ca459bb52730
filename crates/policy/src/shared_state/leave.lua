-- A waiter of the shared window leaves without taking a turn (refused, or
-- its request went away): out of its client's queue, a turn granted to it
-- given back, and its monthly reservation returned.
-- KEYS: 1 window, 2 waiting, 3 leases, 4 granted (as window.lua)
-- ARGV: 1 member ("ticket:client"), 2 spend key of its client ('' without a
--       monthly cap), 3 the prefix of per-client keys (as window.lua)
local client = string.match(ARGV[1], '^%d+:(.*)$')
local queue = ARGV[3] .. 'queue:' .. client
redis.call('ZREM', queue, ARGV[1])
if redis.call('ZCARD', queue) == 0 then
  redis.call('ZREM', KEYS[2], client)
end
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('SREM', KEYS[4], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', ARGV[3] .. 'sent:' .. client, ARGV[1])
end
if ARGV[2] ~= '' and redis.call('DECR', ARGV[2]) < 0 then
  redis.call('DEL', ARGV[2])
end
return 1
