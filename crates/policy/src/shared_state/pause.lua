-- Pauses the shared window (an upstream 429 said Retry-After), keeping a longer pause.
-- KEYS: 1 pause; ARGV: 1 pause ms
local current = redis.call('PTTL', KEYS[1])
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
