-- Resets the time to live of a lock, or of every lock of a set taken together, only while the
-- caller still owns each one; never re-creates one.
-- KEYS[1]: the lock; for a set, KEYS[2] and on: the other locks. ARGV[1]: the lock id; ARGV[2]: the new TTL in ms (> 0).
-- Returns 1 when extended, 0 when a lock is gone or held by someone else (then none is extended).
for i = 1, #KEYS do
    if redis.call('GET', KEYS[i]) ~= ARGV[1] then
        return 0
    end
end
for i = 1, #KEYS do
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 1
