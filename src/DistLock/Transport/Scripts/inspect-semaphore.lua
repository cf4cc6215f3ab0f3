-- Reads a semaphore's state in one step, for tools; changes nothing. KEYS: see permits.lua, and
-- KEYS[4]: its fencing counter. Returns {limit or false, {id, ms left, ...}, waiters, counter or false}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'WITHSCORES')
for i = 2, #live, 2 do
    live[i] = math.floor(tonumber(live[i])) - now
end
return {redis.call('GET', KEYS[3]), live, redis.call('ZCARD', KEYS[2]), redis.call('GET', KEYS[4])}
