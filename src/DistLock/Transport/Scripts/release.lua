-- Deletes the lock, only while the caller still owns it, and tells waiters it is free.
-- KEYS[1]: the lock key
-- ARGV[1]: the lock value (owner id); ARGV[2]: the release channel (same hash slot as KEYS[1]);
-- ARGV[3]: the notice to publish, one per release, so a waiter counts a release once across nodes
-- Returns 1 when deleted, 0 when the key is gone or held by someone else.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('DEL', KEYS[1])
    redis.call('PUBLISH', ARGV[2], ARGV[3])
    return 1
end
return 0
