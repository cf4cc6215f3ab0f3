-- Resets the time to live of one reader's lease, only while it is still held; never re-creates it.
-- KEYS[1]: the lock key; KEYS[2]: the readers
-- ARGV[1]: the reader's lock id; ARGV[2]: new time to live in ms (> 0)
-- Returns 1 when extended, 0 when the lease ran out, was released, or the lock was forced free.
--@include server-clock
local expires = reader_lease(KEYS[2], ARGV[1])
local now = server_ms()
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
