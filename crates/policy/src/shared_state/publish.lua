-- Applies one delivery once: unless it was seen within the window, applies its
-- changes to the held answers, bumps the generations of the operations it
-- touches, logs it in the capped stream with the next id, and announces it.
-- The changes were computed by the patch rules from the answers as read just
-- before; one that changed meanwhile is marked stale instead of patched.
-- KEYS: 1 sequence, 2 stream, 3 seen marker of this delivery,
--       then one held answer per change, then one generation per touched operation
-- ARGV: 1 event, 2 data, 3 max length, 4 channel, 5 dedup window ms,
--       6 number of changes, 7 number of generations,
--       then per change: the answer as read, the patched answer ('' marks it stale)
-- Returns the id, or 0 for a delivery seen within the window.
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[5]) then
  return 0
end
local changes = tonumber(ARGV[6] or '0')
local generations = tonumber(ARGV[7] or '0')
for i = 1, changes do
  local key = KEYS[3 + i]
  local read, patched = ARGV[6 + 2 * i], ARGV[7 + 2 * i]
  local current = redis.call('HGET', key, 'answer')
  if current then
    if patched ~= '' and current == read then
      redis.call('HSET', key, 'answer', patched)
    else
      redis.call('HSET', key, 'marked', '1')
    end
  end
end
for j = 1, generations do
  redis.call('INCR', KEYS[3 + changes + j])
end
-- A new log starts at the current time in ms, so ids keep increasing even
-- when Redis lost its data: browsers holding older ids see a gap, not silence.
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
local id = redis.call('INCR', KEYS[1])
-- The sequence must stay ahead of the stream, even if someone reset it.
local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if top[1] then
  local newest = tonumber(string.match(top[1][1], '^(%d+)'))
  if newest and newest >= id then
    id = newest + 1
    redis.call('SET', KEYS[1], id)
  end
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], id .. '-0', 'event', ARGV[1], 'data', ARGV[2])
redis.call('PUBLISH', ARGV[4],
  '{"id":' .. id .. ',"event":' .. cjson.encode(ARGV[1]) .. ',"data":' .. cjson.encode(ARGV[2]) .. '}')
return id
