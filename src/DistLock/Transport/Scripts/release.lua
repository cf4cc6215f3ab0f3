-- Releases the lock, only while the caller still owns it, and hands it to the first waiter in line.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters (a sorted set in the same hash slot)
-- ARGV[1]: the lock value (owner id); ARGV[2]: the notice to publish, one per release;
-- ARGV[3]: how long the lock stays reserved for the woken waiter, in milliseconds
-- ARGV[4]: the publish command, PUBLISH or SPUBLISH (Redis Cluster)
-- Returns 1 when released, 0 when the key is gone or held by someone else, 2 or 3 when released
-- but the line of waiters needs another pass (what wake_next returned: see wake-next.lua).
-- The woken waiter finds the lock reserved for it, so a newcomer cannot take it first; a
-- reservation that nobody claims expires, and the lock is free again.
--@include reserve-lock
--@include wake-next
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('DEL', KEYS[1])
-- Most locks never have a line: EXISTS answers that for less than wake_next's first ZRANGE.
if redis.call('EXISTS', KEYS[2]) == 0 then
    return 1
end
local woke = wake_next()
if woke >= 2 then
    return woke
end
return 1
