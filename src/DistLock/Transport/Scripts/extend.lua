-- Resets the time to live, only while the caller still owns the lock; never re-creates it.
-- KEYS[1]: the lock. ARGV[1]: the lock id; ARGV[2]: the new TTL in ms (> 0).
-- Returns 1 when extended, 0 when the key is gone or held by someone else.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
