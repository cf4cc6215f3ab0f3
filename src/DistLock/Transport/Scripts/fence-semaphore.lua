-- Issues the next fencing token of a semaphore to a holder, only while its permit is live.
-- KEYS[1]: the holders; KEYS[2]: the semaphore's fencing counter. ARGV: see fence-lock.lua.
-- Returns the token, or 0 when the caller does not hold a permit.
--@include server-clock
--@include next-fence
if (tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1])) or 0) <= server_ms() then
    return 0
end
return fence(KEYS[2])
