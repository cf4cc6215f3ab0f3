-- Ends one reader's lease; the last one out hands the lock to the next in line.
-- KEYS[1]: the lock; KEYS[2]: its line; KEYS[3]: its readers. ARGV[1..3]: see line.lua;
-- ARGV[4]: the lock id; ARGV[5], ARGV[6]: a give-back (see release.lua): the last reader out reserves
-- the lock for its queue again. Returns 1 when released, 0 when the lease had run out or was gone.
--@include server-clock
--@include line
local now = server_ms()
local expires = redis.call('GET', KEYS[1]) == READERS_MARKER and tonumber(redis.call('ZSCORE', KEYS[3], ARGV[4]))
if not expires then
    return 0
end
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local longest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if #longest > 0 then
    -- The marker lives as long as the longest lease left, so a writer waits no longer.
    redis.call('PEXPIRE', KEYS[1], math.max(1, math.floor(tonumber(longest[2])) - now))
elseif ARGV[5] then
    give_back(ARGV[5], ARGV[6])
    redis.call('DEL', KEYS[3])
elseif hand_over(1) == 0 then
    redis.call('DEL', KEYS[1], KEYS[3])
else
    redis.call('DEL', KEYS[3])
end
return expires > now and 1 or 0
