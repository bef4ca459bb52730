-- A waiter of the shared window leaves without taking a turn (refused, or
-- its request went away): out of the queue, a turn granted to it given
-- back, and its monthly reservation returned.
-- KEYS: 1 window, 2 queue, 3 leases, 4 granted (as window.lua)
-- ARGV: 1 member, 2 spend key of its client ('' without a monthly cap)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('SREM', KEYS[4], ARGV[1]) == 1 then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
if ARGV[2] ~= '' and redis.call('DECR', ARGV[2]) < 0 then
  redis.call('DEL', ARGV[2])
end
return 1
