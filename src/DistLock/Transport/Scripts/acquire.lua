-- Takes the lock if it is free, or reserved for this waiter by the last release, and issues the
-- next fencing token; a waiter that does not get it keeps (or takes) a place in the line of
-- waiters, so that a release wakes waiters one at a time, in order.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters (a sorted set); KEYS[3]: the fencing
-- counter (all three in one hash slot)
-- ARGV[1]: the lock value (owner id); ARGV[2]: time to live in milliseconds;
-- ARGV[3]: the waiter's id, or '' for a caller that will not wait;
-- ARGV[4], ARGV[5] (optional): see next-fence.lua
-- Returns {1, token} when taken, or {0, pttl}: the holder's remaining time to live in
-- milliseconds (-1 when the key has no expiry), so a waiter knows when to look again.
--@include next-fence
--@include join-line
if ARGV[3] ~= '' and redis.call('GET', KEYS[1]) == RESERVED_PREFIX .. ARGV[3] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    redis.call('ZREM', KEYS[2], ARGV[3])
    return {1, next_fence()}
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    if ARGV[3] ~= '' then
        redis.call('ZREM', KEYS[2], ARGV[3])
    end
    return {1, next_fence()}
end
local pttl = redis.call('PTTL', KEYS[1])
if ARGV[3] ~= '' then
    join_line(ARGV[3])
    -- The line outlives the holder, so it is there at the release; a line whose waiters all died expires.
    redis.call('PEXPIRE', KEYS[2], math.max(pttl, tonumber(ARGV[2])) + 60000)
end
return {0, pttl}
