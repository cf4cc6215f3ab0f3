-- Included by acquire.lua (KEYS[3]: the fencing counter). Must be included before any write.
-- The counter has no expiry: it is what keeps tokens increasing from one holder to the next.
-- When it is missing (a new resource, or a server restarted without persistence) it starts at
-- the server clock in microseconds, which is above any token issued before a restart unless
-- more than a million tokens a second were issued or the clock went back.
-- Redis 3.2 and 4 allow TIME before writes only in effects replication, which must be asked for
-- before the first write; 5 and later replicate effects anyway; without it the counter starts at 1.
local clock_allowed = redis.replicate_commands ~= nil and redis.replicate_commands()
local function next_fence()
    if redis.call('EXISTS', KEYS[3]) == 1 or not clock_allowed then
        return redis.call('INCR', KEYS[3])
    end
    local now = redis.call('TIME')
    local start = tonumber(now[1]) * 1000000 + tonumber(now[2])
    redis.call('SET', KEYS[3], string.format('%.0f', start))
    return start
end
