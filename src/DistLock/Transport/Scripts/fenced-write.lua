-- Stores a value only if its fencing token is at least the highest token the key has accepted,
-- so a holder that lost its lock (paused, partitioned) cannot overwrite a newer holder's work.
-- KEYS[1]: a hash {value, fence}; ARGV[1]: the value; ARGV[2]: the writer's fencing token
-- Returns 1 when written, 0 when the token is stale.
local last = tonumber(redis.call('HGET', KEYS[1], 'fence'))
if last and tonumber(ARGV[2]) < last then
    return 0
end
redis.call('HMSET', KEYS[1], 'value', ARGV[1], 'fence', ARGV[2])
return 1
