-- A queue leaves a semaphore's line without a permit: the permit handed to it, or a free one, goes to
-- the next queue in line. KEYS: see permits.lua. ARGV[1..3]: see line.lua; ARGV[4]: the queue.
--@include server-clock
--@include line
--@include permits
redis.call('ZREM', KEYS[1], RESERVED_PREFIX .. ARGV[4])
-- Without a limit (no entry) the woken queue's maxCount decides when it claims.
local limit = tonumber(redis.call('GET', KEYS[3])) or redis.call('ZCARD', KEYS[1]) + 1
leave(ARGV[4], math.max(limit - redis.call('ZCARD', KEYS[1]), 0), reserve_permit)
settle()
return 1
