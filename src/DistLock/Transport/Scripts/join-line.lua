-- Included by acquire.lua and acquire-semaphore.lua (KEYS[2]: the line of waiters, a sorted set by arrival).
-- Keeps a refused waiter's place in line, or gives it the next one at the end. A waiter that was
-- woken and moved back marked (wake-next.lua) and asks again is alive after all: unmarked, it
-- keeps its new place.
local function join_line(id)
    local place = redis.call('ZSCORE', KEYS[2], id)
    if not place then
        local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        local ticket = 1
        if #last > 0 then
            ticket = math.floor(tonumber(last[2])) + 1
        end
        redis.call('ZADD', KEYS[2], ticket, id)
    elseif tonumber(place) % 1 ~= 0 then
        redis.call('ZADD', KEYS[2], math.floor(tonumber(place)), id)
    end
end
