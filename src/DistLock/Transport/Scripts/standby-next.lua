-- Goes on looking for the waiter to stand by behind the one a release woke, or for the readers to
-- wake with the ones it woke, after a call of wake_next returned 3 (it ran out of steps).
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters
-- ARGV[2]: the notice; ARGV[3]: the grace in ms (unused here); ARGV[4]: PUBLISH or SPUBLISH
-- Returns what wake_next returns; 0 when the lock is no longer reserved (claimed, or expired).
--@include reserve-lock
--@include wake-next
local value = redis.call('GET', KEYS[1])
if value == READERS_MARKER then
    return wake_readers(0)
end
if not value or string.sub(value, 1, #RESERVED_PREFIX) ~= RESERVED_PREFIX then
    return 0
end
return wake_next(string.sub(value, #RESERVED_PREFIX + 1))
