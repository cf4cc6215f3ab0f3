-- Takes a read lock: a lease of its own in the readers' set, while no writer holds the lock and no
-- writer waits ahead of this reader (writers are preferred: once one waits, new readers queue
-- behind it). The lock key then holds READERS_MARKER, which lives as long as the longest reader's
-- lease, so a writer's SET NX fails while any reader may hold, and learns how long to wait.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters; KEYS[3]: the fencing counter;
-- KEYS[4]: the readers (a sorted set: id -> when its lease runs out, in server ms)
-- ARGV[1]: the reader's lock id; ARGV[2]: time to live in ms; ARGV[3]: the waiter's id, or '';
-- ARGV[4], ARGV[5] (optional): see next-fence.lua
-- Returns {1, token} when taken, or {0, pttl} (the lock key's; -2 when nobody holds it, and a
-- writer ahead of this reader has not taken it yet: the caller wakes the line, see pass-on.lua).
--@include next-fence
--@include server-clock
--@include join-line
if not clock_allowed then
    return redis.error_reply('read locks need Redis 3.2 or later')
end

-- True when a writer waits ahead of `waiter` ('' for a reader not in line: anywhere in it).
-- Readers ahead come first: they are the group a release woke, or readers behind a writer too.
local function writer_ahead(waiter)
    local place = waiter ~= '' and redis.call('ZSCORE', KEYS[2], waiter)
    local bound = place and ('(' .. math.floor(tonumber(place))) or '+inf'
    local from = 0
    while true do
        local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', bound, 'LIMIT', from, 64)
        for _, id in ipairs(ids) do
            if string.sub(id, 1, #READER_PREFIX) ~= READER_PREFIX then
                return true
            end
        end
        if #ids < 64 then
            return false
        end
        from = from + 64
    end
end

local value = redis.call('GET', KEYS[1])
if (value and value ~= READERS_MARKER) or writer_ahead(ARGV[3]) then
    local pttl = redis.call('PTTL', KEYS[1])
    if ARGV[3] ~= '' then
        join_line(ARGV[3], pttl, ARGV[2])
    end
    return {0, pttl}
end

local now = server_ms()
local ttl = tonumber(ARGV[2])
if value then
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
    if redis.call('PTTL', KEYS[1]) < ttl then
        redis.call('PEXPIRE', KEYS[1], ttl)
    end
else
    -- Without the marker, what the set holds is stale (a forced release): it does not count.
    redis.call('DEL', KEYS[4])
    redis.call('SET', KEYS[1], READERS_MARKER, 'PX', ttl)
end
redis.call('ZADD', KEYS[4], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[4], redis.call('PTTL', KEYS[1]))
if ARGV[3] ~= '' then
    redis.call('ZREM', KEYS[2], ARGV[3])
end
return {1, next_fence()}
