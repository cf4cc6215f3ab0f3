-- Reads a semaphore's state in one step, for tools: its limit, its live entries with the time each
-- has left, the length of the line of waiters and the fencing counter. Changes nothing.
-- KEYS: see permits.lua
-- Returns {limit or false, {id, ms left, id, ms left, ...}, waiters, counter or false}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
for i = 2, #live, 2 do
    live[i] = math.floor(tonumber(live[i])) - now
end
return {
    redis.call('GET', KEYS[4]),
    live,
    redis.call('ZCARD', KEYS[2]),
    redis.call('GET', KEYS[3]),
}
