-- Takes a permit: the one handed to this queue, or a free one (reservations count as taken) when the
-- caller is first in line or does not wait. Otherwise the queue keeps its place, and free permits go
-- to those first in line. KEYS: see permits.lua. ARGV[1..3]: see line.lua; ARGV[4]: the lock id;
-- ARGV[5]: the TTL in ms; ARGV[6]: the queue, or ''; ARGV[7]: the caller's maxCount; ARGV[8]: where
-- the queue joins the line (its arrival stamp).
-- Returns {1}; {0, ms until the first entry runs out, or -1}; or {-1, limit} when live entries were
-- taken with another maxCount.
--@include server-clock
--@include line
--@include permits
local id, ttl, queue, max = ARGV[4], tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(redis.call('GET', KEYS[3]))
if count > 0 and limit and limit ~= max then
    return {-1, limit}
end

local function take()
    redis.call('ZADD', KEYS[1], NOW + ttl, id)
    redis.call('SET', KEYS[3], max)
    settle()
    if queue ~= '' then
        redis.call('ZREM', KEYS[2], queue)
    end
    return {1}
end

-- An id holds at most one permit: a second would share, and lose, the first one's entry.
if not redis.call('ZSCORE', KEYS[1], id) then
    if queue ~= '' and redis.call('ZREM', KEYS[1], RESERVED_PREFIX .. queue) == 1 then
        return take()
    end
    if count < max then
        if queue == '' or (first() or queue) == queue then
            return take()
        end
        hand_over(max - count, reserve_permit)
        if redis.call('ZREM', KEYS[1], RESERVED_PREFIX .. queue) == 1 then
            return take()
        end
    end
end
local soonest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if queue ~= '' then
    local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    join(queue, #latest > 0 and math.floor(tonumber(latest[2])) - NOW or 0, ttl, redis.call('ZSCORE', KEYS[2], queue), place(ARGV[8], NOW * 10))
end
return {0, #soonest > 0 and math.floor(tonumber(soonest[2])) - NOW or -1}
