-- Included by acquire.lua (KEYS[3]: the fencing counter). Must be included before any write.
-- ARGV[4] (optional): how long the counter outlives its last token, in ms (default one day);
-- ARGV[5] (optional): the resolution of the clock floor in microseconds (default 1).
-- Each token is the counter plus one, or the server clock in microseconds (rounded down to the
-- resolution) when that is higher. Tokens issued at fewer than a million a second never run ahead
-- of the clock, so a counter that is gone (expired after an idle day, or lost in a restart without
-- persistence) or stale (restored from a snapshot or an everysec AOF, or on a replica promoted
-- before it caught up) still issues tokens above every earlier one, as long as the server's clock
-- does not go back. That lets the counter expire, so idle resources leave nothing in Redis.
-- Redlock nodes use a resolution of one second: within a second their counters move in step, so
-- a round rarely needs its fence raised on the nodes behind (see fence-floor.lua).
-- Redis 3.2 and 4 allow TIME before writes only in effects replication, which must be asked for
-- before the first write; 5 and later replicate effects anyway. Without it the counter is a plain
-- INCR that never expires.
local clock_allowed = redis.replicate_commands ~= nil and redis.replicate_commands()
local function next_fence()
    if not clock_allowed then
        return redis.call('INCR', KEYS[3])
    end
    local token = (tonumber(redis.call('GET', KEYS[3])) or 0) + 1
    local now = redis.call('TIME')
    local resolution = tonumber(ARGV[5]) or 1
    local clock = tonumber(now[1]) * 1000000 + tonumber(now[2])
    clock = clock - clock % resolution
    if clock > token then
        token = clock
    end
    redis.call('SET', KEYS[3], string.format('%.0f', token), 'PX', tonumber(ARGV[4]) or 86400000)
    return token
end
