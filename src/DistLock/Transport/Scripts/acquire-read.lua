-- Takes a read lock: a lease of its own among the readers', shared with readers, never with a
-- writer. The lock key holds READERS_MARKER as long as the longest lease, so a writer's SET NX fails
-- while any reader may hold. Writers are preferred: a reader waits while a writer waits ahead of it
-- (any waiting writer, for a reader not in line), unless its queue was let in: its turn came (the
-- lock is reserved for it), or it came in with other readers lately (for the grace). A reader that
-- gets the lock lets in the readers first in line with it.
-- KEYS[1]: the lock; KEYS[2]: its line; KEYS[3]: its readers (a sorted set: id -> when its lease
-- runs out, in server ms); KEYS[4]: the queues let in lately (queue -> until when, in server ms).
-- ARGV[1..3]: see line.lua; ARGV[4]: the lock id; ARGV[5]: the TTL in ms; ARGV[6]: the queue, or ''
-- for a caller that does not wait; ARGV[7]: '1' when more of the queue's readers follow; ARGV[8]:
-- where the queue joins the line (its arrival stamp).
-- Returns {1} ({1, 1} when its queue was let in, which a failed Redlock attempt gives back: see
-- release.lua), or {0, pttl}.
--@include server-clock
--@include line
if not clock_allowed then
    return redis.error_reply('read locks need Redis 3.2 or later')
end
local id, ttl, queue = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local now = server_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local value = redis.call('GET', KEYS[1])

local function is_reader(waiter)
    return string.sub(waiter, 1, #READER_PREFIX) == READER_PREFIX
end

-- True when a writer that still listens waits ahead of the queue; a probe (a notice clients
-- ignore) counts its listeners, and one nobody listens for (its process died) is dropped.
local function writer_ahead()
    local place = queue ~= '' and redis.call('ZSCORE', KEYS[2], queue)
    local ahead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', place and '(' .. place or '+inf', 'LIMIT', 0, 64)
    local probes = 0
    for _, waiter in ipairs(ahead) do
        if not is_reader(waiter) then
            probes = probes + 1
            if probes > 8 or redis.call(PUB, KEYS[1] .. ':wake:' .. waiter, PROBE_PREFIX) > 0 then
                return true
            end
            redis.call('ZREM', KEYS[2], waiter)
        end
    end
    return #ahead == 64
end

-- A queue let in lately (its turn, or with the readers first in line) comes in whatever waits ahead.
local let_in = queue ~= '' and (value == RESERVED_PREFIX .. queue
    or value == READERS_MARKER and (tonumber(redis.call('ZSCORE', KEYS[4], queue)) or 0) > now)
-- An id holds at most one read lock: a second would share, and lose, the first one's lease. (Its
-- own lease, from an attempt whose answer it did not wait for, is being given back: no holder to sleep on.)
if value == READERS_MARKER and redis.call('ZSCORE', KEYS[3], id) then
    return {0, -3}
end
if not let_in and (value and value ~= READERS_MARKER or writer_ahead()) then
    if not value then
        hand_over(1)
    end
    local pttl = redis.call('PTTL', KEYS[1])
    if queue ~= '' then
        join(queue, pttl, ttl, redis.call('ZSCORE', KEYS[2], queue), place(ARGV[8]))
    end
    return {0, pttl}
end

if value ~= READERS_MARKER then
    -- Leases without the marker are stale (a forced release).
    redis.call('DEL', KEYS[3])
end
redis.call('ZADD', KEYS[3], now + ttl, id)
local longest = math.floor(tonumber(redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')[2])) - now
redis.call('SET', KEYS[1], READERS_MARKER, 'PX', longest)
redis.call('PEXPIRE', KEYS[3], longest)

-- Let in, for the grace: this queue when more of its readers follow (ARGV[7]), and the readers
-- first in line, which are woken.
local admitted = {}
if queue ~= '' then
    local listed = redis.call('ZSCORE', KEYS[2], queue)
    if listed then
        redis.call('ZREM', KEYS[2], queue)
    elseif value == RESERVED_PREFIX .. queue then
        -- Taken out of the line when its turn came, with others behind it, who heard of the turn.
        announce('c', ttl, queue)
    end
    if ARGV[7] == '1' then
        admitted[#admitted + 1] = queue
    end
end
for _ = 1, 1000 do
    local head = first()
    if not head or not is_reader(head) then
        break
    end
    redis.call('ZREM', KEYS[2], head)
    if redis.call(PUB, KEYS[1] .. ':wake:' .. head, NOTICE) > 0 then
        admitted[#admitted + 1] = head
    end
end
for _, waiter in ipairs(admitted) do
    redis.call('ZADD', KEYS[4], now + GRACE, waiter)
end
if #admitted > 0 then
    redis.call('PEXPIRE', KEYS[4], GRACE)
end
return let_in and {1, 1} or {1}
