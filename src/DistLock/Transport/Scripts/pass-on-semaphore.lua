-- A waiter leaves the line of a semaphore without a permit; it gives back a permit reserved for it,
-- and if a permit is free, the next waiter is woken for it, so that a wake is never lost with a
-- departing waiter.
-- KEYS: see permits.lua
-- ARGV[1]: the departing waiter's id ('' only goes on waking after a call that returned 2);
-- ARGV[2]: the notice to publish; ARGV[3]: the grace in ms; ARGV[4]: PUBLISH or SPUBLISH
-- Returns 1 when a waiter was woken, else 0; 2 or 3 when the line needs another pass (see wake-next.lua).
--@include permits
--@include reserve-permit
--@include wake-next
prune()
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], RESERVED_PREFIX .. ARGV[1])
local limit = tonumber(redis.call('GET', KEYS[4]))
local woke = 0
if not limit or redis.call('ZCARD', KEYS[1]) < limit then
    woke = wake_next()
end
settle()
return woke
