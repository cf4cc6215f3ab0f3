-- Included by the scripts that read the server's clock (leases of readers and semaphore permits,
-- fencing tokens, where a waiting queue joins a line). TIME before a write needs effects
-- replication, which Redis 3.2 and 4 must be asked for before the first write (5 and later
-- replicate effects anyway).
local clock_allowed = redis.replicate_commands ~= nil and redis.replicate_commands()

local function server_ms()
    local clock = redis.call('TIME')
    return tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
