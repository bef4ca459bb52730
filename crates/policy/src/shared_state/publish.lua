-- Logs one event in the capped stream with the next id, and announces it.
-- KEYS: 1 sequence, 2 stream, 3 seen marker of this delivery
-- ARGV: 1 event, 2 data, 3 max length, 4 channel, 5 dedup window ms
-- Returns the id, or 0 for a delivery seen within the window.
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[5]) then
  return 0
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
