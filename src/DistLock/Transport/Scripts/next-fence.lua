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
-- SET ... GET (Redis 6.2) reads and writes the counter in one call; REDIS_VERSION_NUM came with 7.0.
local set_get = (redis.REDIS_VERSION_NUM or 0) >= 0x060200
local function next_fence()
    if not clock_allowed then
        return redis.call('INCR', KEYS[3])
    end
    local now = redis.call('TIME')
    local resolution = tonumber(ARGV[5]) or 1
    local idle = tonumber(ARGV[4]) or 86400000
    local clock = tonumber(now[1]) * 1000000 + tonumber(now[2])
    clock = clock - clock % resolution
    if resolution > 1 then
        -- A floor of whole seconds (Redlock): within a second the counter is ahead of the floor,
        -- so counting on is the common case. INCR keeps the expiry the last SET gave the counter,
        -- which the floor renews at least once a second while tokens are issued (a counter ahead
        -- for longer has been raised to another node's token, by fence-floor.lua, which sets it).
        local token = redis.call('INCR', KEYS[3])
        if clock > token then
            redis.call('SET', KEYS[3], string.format('%.0f', clock), 'PX', idle)
            token = clock
        end
        return token
    end
    -- A floor of microseconds (one node): the clock is ahead of the counter but for a million
    -- tokens a second, so the floor is the common case: write it, and read what it replaced.
    local last
    if set_get then
        last = tonumber(redis.call('SET', KEYS[3], string.format('%.0f', clock), 'PX', idle, 'GET'))
        if not last or last < clock then
            return clock
        end
    else
        last = tonumber(redis.call('GET', KEYS[3])) or 0
    end
    local token = math.max(last + 1, clock)
    redis.call('SET', KEYS[3], string.format('%.0f', token), 'PX', idle)
    return token
end
