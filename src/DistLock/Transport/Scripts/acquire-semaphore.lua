-- Takes a permit of a semaphore if one is free, or reserved for this waiter by a release, and
-- issues the next fencing token; a waiter that does not get one keeps (or takes) a place in the
-- line of waiters, so that each release wakes one waiter, in order.
-- KEYS: see permits.lua (KEYS[3]: the fencing counter, for next-fence.lua)
-- ARGV[1]: the holder's lock id; ARGV[2]: time to live in milliseconds;
-- ARGV[3]: the waiter's id, or '' for a caller that will not wait;
-- ARGV[4], ARGV[5]: see next-fence.lua; ARGV[6]: the caller's maxCount
-- Returns {1, token} when taken; {0, ms until the first entry runs out (-1 when none)} when all
-- permits are taken; {-1, limit} when live entries were taken with another maxCount (the limit).
--@include next-fence
--@include permits
--@include join-line
prune()
local max = tonumber(ARGV[6])
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(redis.call('GET', KEYS[4]))
if count > 0 and limit and limit ~= max then
    return {-1, limit}
end
local take = false
-- An id holds at most one permit: a second hold would share, and lose, the first one's entry.
local holds = redis.call('ZSCORE', KEYS[1], ARGV[1])
if holds then
    take = false
elseif ARGV[3] ~= '' and redis.call('ZREM', KEYS[1], RESERVED_PREFIX .. ARGV[3]) == 1 then
    take = true
elseif count < max then
    -- A free permit (reservations count as taken).
    take = true
end
if take then
    redis.call('ZADD', KEYS[1], NOW + tonumber(ARGV[2]), ARGV[1])
    redis.call('SET', KEYS[4], max)
    settle()
    if ARGV[3] ~= '' then
        redis.call('ZREM', KEYS[2], ARGV[3])
    end
    return {1, next_fence()}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = -1
if #first > 0 then
    wait = math.floor(tonumber(first[2])) - NOW
end
if ARGV[3] ~= '' then
    local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    join_line(ARGV[3], #last > 0 and math.floor(tonumber(last[2])) - NOW or 0, ARGV[2])
end
return {0, wait}
