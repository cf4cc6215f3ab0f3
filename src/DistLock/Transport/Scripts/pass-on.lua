-- A waiter leaves the line without the lock; if the lock is free (or reserved for this waiter),
-- it goes to the next waiter, so that a wake is never lost with a departing waiter.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters (a sorted set in the same hash slot)
-- ARGV[1]: the departing waiter's id; ARGV[2]: the notice to publish;
-- ARGV[3]: how long the lock stays reserved for the next waiter, in milliseconds
-- ARGV[4]: the publish command, PUBLISH or SPUBLISH (Redis Cluster)
-- Returns 1 when a waiter was woken, else 0; 2 or 3 when the line needs another pass (see wake-next.lua).
-- An empty ARGV[1] only goes on waking (after a release or pass-on that returned 2).
--@include reserve-lock
--@include wake-next
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[1]) == RESERVED_PREFIX .. ARGV[1] then
    redis.call('DEL', KEYS[1])
end
local value = redis.call('GET', KEYS[1])
if value == READERS_MARKER then
    -- Readers hold: readers that waited only behind the departing waiter (a writer) may join them
    -- now. The marker is theirs already, so it is left as it is (no reservation).
    local head = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    if #head > 0 and is_reader(head[1]) and tonumber(head[2]) % 1 == 0 then
        return wake_readers(0)
    end
    return 0
end
if value then
    return 0
end
return wake_next()
