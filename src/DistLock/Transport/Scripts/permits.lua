-- Included by the semaphore scripts, after server-clock.lua. KEYS[1]: the holders, a sorted set
-- (member: a lock id, or RESERVED_PREFIX .. queue for a permit handed to a woken queue; score: when
-- it runs out, in server ms); KEYS[2]: the line; KEYS[3]: the limit (maxCount), kept while there are
-- holders. Entries whose time has passed are dropped first: a crashed holder's permit comes back.
if not clock_allowed then
    return redis.error_reply('semaphores need Redis 3.2 or later')
end
local NOW = server_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', NOW)

-- The holders and the limit expire a second after the last entry; the limit goes with the last
-- entry (the next caller's maxCount then wins), so an idle semaphore leaves nothing behind.
local function settle()
    local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    if #last == 0 then
        redis.call('DEL', KEYS[3])
        return
    end
    local keep = math.floor(tonumber(last[2])) - NOW + 1000
    redis.call('PEXPIRE', KEYS[1], keep)
    redis.call('PEXPIRE', KEYS[3], keep)
end

-- What a woken queue holds for the grace: a permit in its name, which its acquire takes over.
local function reserve_permit(id, grace)
    redis.call('ZADD', KEYS[1], NOW + grace, RESERVED_PREFIX .. id)
end
