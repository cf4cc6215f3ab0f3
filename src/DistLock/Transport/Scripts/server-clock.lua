-- Included by the scripts of shared holds (readers), whose leases expire by the server's clock.
-- TIME before a write needs effects replication, which Redis 3.2 and 4 must be asked for before
-- the first write (asked here; 5 and later replicate effects anyway). Older servers cannot keep
-- such leases.
if redis.replicate_commands ~= nil then
    redis.replicate_commands()
end

local function server_ms()
    local now = redis.call('TIME')
    return tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end

-- When the lease of reader `id` runs out (server ms), or nil when it has none: not in the readers'
-- set (KEYS[readers_key]), or the lock is not read-locked (then the set is stale).
local function reader_lease(readers_key, id)
    if redis.call('GET', KEYS[1]) ~= READERS_MARKER then
        return nil
    end
    return tonumber(redis.call('ZSCORE', readers_key, id))
end
