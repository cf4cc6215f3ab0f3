-- Resets one reader's lease, only while it is live; never re-creates it.
-- KEYS[1]: the lock; KEYS[2]: its readers. ARGV[1]: the lock id; ARGV[2]: the new TTL in ms (> 0).
-- Returns 1 when extended, 0 when the lease ran out, was released, or the lock was forced free.
--@include server-clock
local now = server_ms()
local expires = redis.call('GET', KEYS[1]) == READERS_MARKER and tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
if not expires or expires <= now then
    return 0
end
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
