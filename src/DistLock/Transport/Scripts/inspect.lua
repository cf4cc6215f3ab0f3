-- Reads a lock's state in one step, for tools: who holds it, for how long, the fencing counter,
-- the length of the line of waiters, and the readers with what is left of their leases. Changes nothing.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters; KEYS[3]: the fencing counter; KEYS[4]: the readers
-- Returns {value or false, pttl, counter or false, waiters, {reader id, ms left, ...}}.
local value = redis.call('GET', KEYS[1])
local readers = {}
if value == READERS_MARKER then
    local now = redis.call('TIME')
    local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    local leases = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. now_ms, '+inf', 'WITHSCORES')
    for i = 1, #leases, 2 do
        readers[#readers + 1] = leases[i]
        readers[#readers + 1] = math.floor(tonumber(leases[i + 1]) - now_ms)
    end
end
return {
    value,
    redis.call('PTTL', KEYS[1]),
    redis.call('GET', KEYS[3]),
    redis.call('ZCARD', KEYS[2]),
    readers,
}
