-- Takes a set of locks for one id, all or none (the set's members in one hash slot; see MultiHold).
-- Each member keeps its own line. A waiting queue stands in the line of every member under one
-- ticket, so two queues are in the same order in every line they share. A member whose turn came
-- to a queue that still waits for another member is kept for it (reserved) until that one is
-- expected to be free, so the set is taken whole, in arrival order per member; a member kept for a
-- queue with a later ticket is the turn of a queue with an earlier one, so no two queues keep what
-- the other waits for. Only members before the first one it cannot have yet (held, or kept for a
-- queue ahead; KEYS are in name order) are kept, as a caller taking the locks one by one in that
-- order would hold them: a holder that goes on to take more locks in that order never waits for
-- what a set keeps, as each set keeps only what comes before the member it waits for. A caller
-- that does not wait (queue '') takes the set when every member is free, as SET NX takes one lock,
-- and never joins a line.
-- KEYS[1], KEYS[2]: the first member's lock and line; KEYS[3], KEYS[4]: the next member's, and so on.
-- ARGV[1..3]: see line.lua; ARGV[4]: the lock id; ARGV[5]: the TTL in ms; ARGV[6]: the queue, or '';
-- ARGV[7]: where the queue joins the lines it is not in yet (its arrival stamp).
-- Returns {1} when taken ({1, 1} when it took the queue's turn on a member, which a failed Redlock
-- attempt gives back: see release.lua), or {0, pttl, rival, key...}: how long the members it waits
-- for are taken, at most (when it keeps members, until it must keep them anew), 1 when a member
-- refused it for another queue's turn (else 0), and the lock keys of those members (for the
-- caller's message when it gives up).
local id, ttl, queue = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local wait, refused = -1, {0, -1, 0}
if queue == '' then
    -- Needs none of the line's helpers, so it ends before they are set up (see release.lua).
    -- (EXISTS one key at a time: several keys need Redis 3.0.3.)
    for i = 1, #KEYS, 2 do
        if redis.call('EXISTS', KEYS[i]) == 1 then
            wait = math.max(wait, redis.call('PTTL', KEYS[i]))
            refused[#refused + 1] = KEYS[i]
        end
    end
    if #refused > 3 then
        refused[2] = wait
        return refused
    end
    for i = 1, #KEYS, 2 do
        redis.call('SET', KEYS[i], id, 'PX', ttl)
    end
    return {1}
end
--@include server-clock
--@include line

-- The queue's ticket: the one it has in any of its lines (a release that woke it took it out of
-- that member's line only), or when it stands in none yet, its arrival stamp.
local ticket = false
for i = 2, #KEYS, 2 do
    ticket = ticket or redis.call('ZSCORE', KEYS[i], queue)
end
ticket = tonumber(ticket)

local values, turn, all, blocked_at, took_turn = {}, {}, true, math.huge, false
for i = 2, #KEYS, 2 do
    LOCK, LINE = KEYS[i - 1], KEYS[i]
    local value = redis.call('GET', LOCK)
    local head = value or first()
    if not value and head and head ~= queue and i < blocked_at then
        -- Free, and others are first in line (asleep, or gone): the turn is theirs, or this queue's.
        -- Not after a member it cannot have: this queue would not keep it, and waking the first (a
        -- set that waits for that member too) to hand it on had two such sets wake each other.
        hand_over(1)
        value, head = redis.call('GET', LOCK), first()
    end
    local other = value and string.sub(value, 1, #RESERVED_PREFIX) == RESERVED_PREFIX and string.sub(value, #RESERVED_PREFIX + 1)
    -- (Queues with one score are in the order of their names, in every line.)
    local score = other and ticket and tonumber(redis.call('ZSCORE', LINE, other))
    turn[i] = value == RESERVED_PREFIX .. queue or not value and (head or queue) == queue
        or score and (score > ticket or score == ticket and other > queue)
    values[i] = value
    if not turn[i] and i < blocked_at then
        blocked_at = i
    end
    took_turn = took_turn or value == RESERVED_PREFIX .. queue
    if not turn[i] and other then
        refused[3] = 1
    end
    if not turn[i] then
        all = false
        wait = math.max(wait, redis.call('PTTL', LOCK))
        refused[#refused + 1] = LOCK
    end
end
if all then
    for i = 2, #KEYS, 2 do
        LOCK, LINE = KEYS[i - 1], KEYS[i]
        redis.call('SET', LOCK, id, 'PX', ttl)
        if took(queue, false, ttl) and values[i] then
            announce('c', ttl, queue)
        end
    end
    return took_turn and {1, 1} or {1}
end
ticket = ticket or place(ARGV[7])
-- A member is kept until what the set waits for is expected to be free, but for KEEP_MS at most at
-- a time: the set looks again by then and keeps it anew, so a set whose process died or stalled
-- costs the member's other waiters that long and a grace, not the TTL of what it waited for.
local KEEP_MS = 2000
local keep, kept = math.max(math.min(wait, KEEP_MS), GRACE), false
for i = 2, #KEYS, 2 do
    LOCK, LINE = KEYS[i - 1], KEYS[i]
    local score = redis.call('ZSCORE', LINE, queue)
    join(queue, wait, ttl, score and tonumber(score) == ticket, ticket)
    if i > blocked_at and values[i] == RESERVED_PREFIX .. queue then
        -- Kept, a member after one it cannot have could be what a holder waits for next (taking
        -- locks in this same order): the turn handed to this queue goes on to the queues behind it.
        -- With none behind, those ahead (who came in after the turn was handed here, with a close
        -- or equal stamp) look again: they slept on this queue's turn, and the member is free now.
        redis.call('DEL', LOCK)
        if hand_over(1, nil, queue) == 0 then
            announce('h', 0)
        end
    end
    if turn[i] and i < blocked_at then
        redis.call('SET', LOCK, RESERVED_PREFIX .. queue, 'PX', keep)
        announce('c', keep, queue)
        kept = true
    end
end
refused[2] = kept and math.min(wait, keep) or wait
return refused
