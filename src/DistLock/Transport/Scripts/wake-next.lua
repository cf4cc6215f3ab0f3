-- Included by release.lua, pass-on.lua and force-release.lua (same KEYS; ARGV[2]: the notice; ARGV[3]: the
-- grace in ms; ARGV[4]: PUBLISH, or SPUBLISH in Redis Cluster, where the wake channel shares the lock's slot).
-- Wakes the first waiter in line that someone listens for, on KEYS[1]..':wake:'..id, and reserves
-- the lock for it for the grace; PUBLISH counts the listeners, so a waiter that died or left is
-- dropped from the line and the next one is tried. Returns 1 when a waiter was woken, else 0.
local function wake_next()
    for _ = 1, 16 do
        local first = redis.call('ZRANGE', KEYS[2], 0, 0)
        if #first == 0 then
            return 0
        end
        if redis.call(ARGV[4], KEYS[1] .. ':wake:' .. first[1], ARGV[2]) > 0 then
            redis.call('SET', KEYS[1], 'reserved:' .. first[1], 'PX', ARGV[3])
            return 1
        end
        redis.call('ZREM', KEYS[2], first[1])
    end
    return 0
end
