-- Reads a lock's state in one step, for tools; changes nothing.
-- KEYS[1]: the lock; KEYS[2]: its line; KEYS[3]: its readers; KEYS[4]: its fencing counter.
-- Returns {value or false, pttl, counter or false, waiters, {reader id, ms left, ...}}.
local value = redis.call('GET', KEYS[1])
local readers = {}
if value == READERS_MARKER then
    local clock = redis.call('TIME')
    local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
    local leases = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. now, '+inf', 'WITHSCORES')
    for i = 1, #leases, 2 do
        if string.sub(leases[i], 1, #RESERVED_PREFIX) ~= RESERVED_PREFIX then
            readers[#readers + 1] = leases[i]
            readers[#readers + 1] = math.floor(tonumber(leases[i + 1])) - now
        end
    end
end
return {value, redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[4]), redis.call('ZCARD', KEYS[2]), readers}
