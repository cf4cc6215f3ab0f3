-- Gives back one holder's permit, only while its entry is still live, and wakes the first waiter in
-- line for it (one wake per freed permit), with the permit reserved for that waiter for the grace.
-- KEYS: see permits.lua
-- ARGV[1]: the holder's lock id; ARGV[2]: the notice to publish, one per release;
-- ARGV[3]: how long the permit stays reserved for the woken waiter, in milliseconds;
-- ARGV[4]: the publish command, PUBLISH or SPUBLISH (Redis Cluster)
-- Returns 1 when released, 0 when the entry is gone, 2 or 3 when released but the line of waiters
-- needs another pass (what wake_next returned: see wake-next.lua).
--@include permits
--@include reserve-permit
--@include wake-next
prune()
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
    return 0
end
-- The limit changes only when no entry is left, and a reservation replaces a freed permit, so
-- the entries stay within the limit: the permit just freed is free.
local woke = wake_next()
settle()
if woke >= 2 then
    return woke
end
return 1
