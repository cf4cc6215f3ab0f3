-- Takes the lock if it is free.
-- KEYS[1]: the lock key
-- ARGV[1]: the lock value (owner id); ARGV[2]: time to live in milliseconds
-- Returns {1} when taken, or {0, pttl}: the holder's remaining time to live in milliseconds
-- (-1 when the key has no expiry), so a waiter knows when to look again.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return {1}
end
return {0, redis.call('PTTL', KEYS[1])}
