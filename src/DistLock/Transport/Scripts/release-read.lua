-- Ends one reader's lease. The last reader out frees the lock and wakes the line (the first writer,
-- or the next group of readers); while readers the same release woke have not come yet (marked
-- at the head of the line), the lock stays reserved for readers for another grace instead.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters; KEYS[3]: the readers
-- ARGV[1]: the reader's lock id; ARGV[2]: the notice; ARGV[3]: the grace in ms; ARGV[4]: PUBLISH or SPUBLISH
-- Returns 1 when released, 0 when the lease had run out (or was released, or forced free),
-- 2 or 3 when released but the line needs another pass (see wake-next.lua).
--@include server-clock
--@include reserve-lock
--@include wake-next
local expires = reader_lease(KEYS[3], ARGV[1])
local now = server_ms()
if not expires then
    return 0
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local held = expires > now and 1 or 0
local longest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if #longest > 0 then
    -- The marker lives exactly as long as the longest lease left, so a writer waits no longer.
    redis.call('PEXPIRE', KEYS[1], math.max(1, math.floor(tonumber(longest[2]) - now)))
    return held
end
redis.call('DEL', KEYS[3])
local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #head > 0 and is_reader(head[1]) and tonumber(head[2]) % 1 ~= 0 then
    reserve_readers()
    -- The writer behind them stands by: if they do not come (stalled), it looks again after the grace.
    local woke = wake_readers(0)
    if woke >= 2 then
        return woke
    end
    return held
end
redis.call('DEL', KEYS[1])
local woke = wake_next()
if woke >= 2 then
    return woke
end
return held
