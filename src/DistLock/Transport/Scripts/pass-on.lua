-- A waiter leaves the line without the lock; if the lock is free, the wake it may have taken
-- goes to the next waiter, so that a wake is never lost with a departing waiter.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters (a sorted set in the same hash slot)
-- ARGV[1]: the departing waiter's id; ARGV[2]: the notice to publish
-- Returns 1 when a waiter was woken, else 0.
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
end
for _ = 1, 16 do
    local first = redis.call('ZRANGE', KEYS[2], 0, 0)
    if #first == 0 then
        return 0
    end
    if redis.call('PUBLISH', KEYS[1] .. ':wake:' .. first[1], ARGV[2]) > 0 then
        return 1
    end
    redis.call('ZREM', KEYS[2], first[1])
end
return 0
