-- Issues the next fencing token of a lock to a reader, only while its lease is live: above every
-- write's token issued before. KEYS[1]: the lock; KEYS[2]: its readers; KEYS[3]: its fencing counter.
-- ARGV: see fence-lock.lua. Returns the token, or 0 when the reader does not hold the lock.
--@include server-clock
--@include next-fence
local expires = redis.call('GET', KEYS[1]) == READERS_MARKER and tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
if not expires or expires <= server_ms() then
    return 0
end
return fence(KEYS[3])
