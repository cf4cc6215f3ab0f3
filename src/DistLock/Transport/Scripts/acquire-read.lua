-- Takes a read lock: a lease of its own in the readers' set, while no writer holds the lock and no
-- writer waits ahead of this reader (writers are preferred: once one waits, new readers queue
-- behind it). The lock key then holds READERS_MARKER, which lives as long as the longest reader's
-- lease, so a writer's SET NX fails while any reader may hold, and learns how long to wait.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters; KEYS[3]: the fencing counter;
-- KEYS[4]: the readers (a sorted set: id -> when its lease runs out, in server ms);
-- KEYS[5]: the places in line let in lately (a sorted set: waiter id -> until when, in server ms)
-- ARGV[1]: the reader's lock id; ARGV[2]: time to live in ms; ARGV[3]: the waiter's id, or '';
-- ARGV[4], ARGV[5]: see next-fence.lua; ARGV[6]: the grace in ms;
-- ARGV[7]: the publish command, PUBLISH or SPUBLISH (Redis Cluster)
-- The readers of one process wait together, under one place in line: the first of them to get
-- the lock lets that place in for the grace, so the others get it too, although the place has
-- left the line (and a writer may now be first in it).
-- Returns {1, token} when taken ({1, token, 1} when it dropped a dead writer from the line: the
-- readers that queued behind that writer may come in too, so the caller wakes the line), or
-- {0, pttl} (the lock key's; -2 when nobody holds it, and a writer ahead of this reader has not
-- taken it yet: the caller wakes the line, see pass-on.lua).
--@include next-fence
--@include server-clock
--@include join-line
if not clock_allowed then
    return redis.error_reply('read locks need Redis 3.2 or later')
end

local now = server_ms()

-- True when a writer waits ahead of `waiter` ('' for a reader not in line: anywhere in it).
-- Readers ahead come first: they are the group a release woke, or readers behind a writer too.
-- A writer is waiting only while it listens on its wake channel: a probe (a notice clients
-- ignore) counts the listeners, and a writer nobody listens for (its process died) is dropped,
-- at most 16 a call, so that a dead writer cannot hold readers back while readers keep the lock.
local dropped_writers = 0
local function writer_ahead(waiter)
    if waiter ~= '' and (tonumber(redis.call('ZSCORE', KEYS[5], waiter)) or 0) > now then
        return false
    end
    local place = waiter ~= '' and redis.call('ZSCORE', KEYS[2], waiter)
    local bound = place and ('(' .. math.floor(tonumber(place))) or '+inf'
    local from = 0
    local probes = 0
    while true do
        local entries = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', bound, 'WITHSCORES', 'LIMIT', from, 64)
        local dropped = 0
        for i = 1, #entries, 2 do
            local id = entries[i]
            -- A marked writer was woken and had its turn: while its reservation lasts the key is
            -- not free (refused above); once it is gone, the writer missed its turn.
            if string.sub(id, 1, #READER_PREFIX) ~= READER_PREFIX and tonumber(entries[i + 1]) % 1 == 0 then
                probes = probes + 1
                if probes > 16 or redis.call(ARGV[7], KEYS[1] .. ':wake:' .. id, PROBE_PREFIX .. id) > 0 then
                    return true
                end
                redis.call('ZREM', KEYS[2], id)
                dropped = dropped + 1
                dropped_writers = dropped_writers + 1
            end
        end
        if #entries < 128 then
            return false
        end
        from = from + 64 - dropped
    end
end

local value = redis.call('GET', KEYS[1])
-- An id holds at most one read lock (a second hold would share, and lose, the first one's lease).
local holding = value == READERS_MARKER and (tonumber(redis.call('ZSCORE', KEYS[4], ARGV[1])) or 0) > now
if (value and value ~= READERS_MARKER) or holding or writer_ahead(ARGV[3]) then
    local pttl = redis.call('PTTL', KEYS[1])
    if ARGV[3] ~= '' then
        join_line(ARGV[3], pttl, ARGV[2])
    end
    return {0, pttl}
end

local ttl = tonumber(ARGV[2])
local raise = not value or redis.call('PTTL', KEYS[1]) < ttl
if not value then
    -- Without the marker, what the set holds is stale (a forced release): it does not count.
    redis.call('DEL', KEYS[4])
    redis.call('SET', KEYS[1], READERS_MARKER, 'PX', ttl)
elseif raise then
    redis.call('PEXPIRE', KEYS[1], ttl)
end
-- Leases that ran out are pruned by the releases (release-read.lua), which count what is left.
redis.call('ZADD', KEYS[4], now + ttl, ARGV[1])
if raise or redis.call('PTTL', KEYS[4]) == -1 then
    -- The set lives at least as long as the marker, so it is there for every release.
    redis.call('PEXPIRE', KEYS[4], math.max(ttl, redis.call('PTTL', KEYS[1])))
end
if ARGV[3] ~= '' and redis.call('ZREM', KEYS[2], ARGV[3]) == 1 then
    local grace = tonumber(ARGV[6])
    redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
    redis.call('ZADD', KEYS[5], now + grace, ARGV[3])
    redis.call('PEXPIRE', KEYS[5], grace)
end
if dropped_writers > 0 then
    return {1, next_fence(), 1}
end
return {1, next_fence()}
