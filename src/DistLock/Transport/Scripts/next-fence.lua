-- Included after server-clock.lua by the scripts that issue fencing tokens.
-- Each token is the counter plus one, or the server clock in microseconds (rounded down to
-- `resolution`) when that is higher. Tokens issued at fewer than a million a second never run ahead
-- of the clock, so a counter that is gone (expired after `idle` ms without a token, or lost in a
-- restart without persistence) or stale (restored from a snapshot, or on a replica promoted before it
-- caught up) still issues tokens above every earlier one, as long as the server's clock does not go
-- back. Redlock nodes use a resolution of one second: within a second their counters move in step,
-- so a token rarely needs raising on the nodes behind (raise_fence). Without effects
-- replication (Redis before 3.2) the counter is a plain INCR that never expires.
-- SET ... GET (Redis 6.2) reads and writes the counter in one call; REDIS_VERSION_NUM came with 7.0.
local set_get = (redis.REDIS_VERSION_NUM or 0) >= 0x060200
local function next_fence(counter, idle, resolution)
    if not clock_allowed then
        return redis.call('INCR', counter)
    end
    local clock = redis.call('TIME')
    local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
    now = now - now % resolution
    if resolution > 1 then
        -- A floor of whole seconds (Redlock): within a second the counter is ahead of the floor, so
        -- counting on is the common case; INCR keeps the expiry the floor renews every second.
        local token = redis.call('INCR', counter)
        if now > token then
            redis.call('SET', counter, string.format('%.0f', now), 'PX', idle)
            token = now
        end
        return token
    end
    -- A floor of microseconds (one node): the clock is ahead of the counter but for a million
    -- tokens a second, so the floor is the common case: write it, and read what it replaced.
    local last
    if set_get then
        last = tonumber(redis.call('SET', counter, string.format('%.0f', now), 'PX', idle, 'GET'))
        if not last or last < now then
            return now
        end
    else
        last = tonumber(redis.call('GET', counter)) or 0
    end
    local token = math.max(last + 1, now)
    redis.call('SET', counter, string.format('%.0f', token), 'PX', idle)
    return token
end

-- Raises the counter to at least `floor` (a Redlock token the other nodes issued), and answers it.
local function raise_fence(counter, floor, idle)
    if (tonumber(redis.call('GET', counter)) or 0) < floor then
        if clock_allowed then
            redis.call('SET', counter, string.format('%.0f', floor), 'PX', idle)
        else
            redis.call('SET', counter, string.format('%.0f', floor))
        end
    end
    return floor
end

-- The answer of the fence-* scripts once they know the caller holds (their ARGV: the id, idle,
-- resolution, floor): the next token, or with a floor the counter raised to it.
local function fence(counter)
    if tonumber(ARGV[4]) > 0 then
        return raise_fence(counter, tonumber(ARGV[4]), tonumber(ARGV[2]))
    end
    return next_fence(counter, tonumber(ARGV[2]), tonumber(ARGV[3]))
end
