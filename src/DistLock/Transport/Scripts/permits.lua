-- Included first by the semaphore scripts, which share their KEYS: KEYS[1]: the holders (a sorted
-- set: member = lock id, or RESERVED_PREFIX .. waiter id for a permit a release reserved; score =
-- when it runs out, in the server's milliseconds); KEYS[2]: the line of waiters; KEYS[3]: the
-- fencing counter; KEYS[4]: the limit (maxCount), kept while the semaphore has entries.
-- The server's clock decides expiry: NOW is read once per script, before any write (Redis 3.2 and 4
-- allow that only in effects replication, asked for here; 5 and later replicate effects anyway).
if redis.replicate_commands ~= nil then
    redis.replicate_commands()
end
local clock = redis.call('TIME')
local NOW = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

-- Drops the entries whose lease ran out (a crashed holder's permit comes back here).
local function prune()
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', NOW)
end

-- Makes the holders and the limit expire a second after the last entry does, and drops the limit
-- once no entry is left (the next caller's maxCount then wins), so an idle semaphore leaves nothing.
local function settle()
    local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    if #last == 0 then
        redis.call('DEL', KEYS[4])
        return
    end
    local keep = math.floor(tonumber(last[2])) - NOW + 1000
    redis.call('PEXPIRE', KEYS[1], keep)
    redis.call('PEXPIRE', KEYS[4], keep)
end
