-- The line of waiters: one mechanism for every kind of hold, included by their scripts.
-- KEYS[1]: the hold's key (LOCK); KEYS[2]: its line (LINE), a sorted set of waiting queues by arrival (score: ticket).
-- ARGV[1]: the grace in ms; ARGV[2]: PUBLISH, or SPUBLISH in Redis Cluster; ARGV[3]: the wake notice.
-- A queue listens on KEYS[1] .. ':wake:' .. id; PUBLISH counts its listeners, so a queue whose
-- process is gone is dropped when its turn comes. Everyone in line listens on KEYS[1] .. ':handoff'.
local GRACE, PUB, NOTICE = tonumber(ARGV[1]), ARGV[2], ARGV[3]
-- The hold and the line the functions below work on: KEYS[1] and KEYS[2], or in a script over a
-- set of locks (acquire-all.lua, release.lua, leave.lua), each member's in turn.
local LOCK, LINE = KEYS[1], KEYS[2]

local function first()
    return redis.call('ZRANGE', LINE, 0, 0)[1]
end

-- The ticket one past the last in line.
local function next_ticket()
    local last = redis.call('ZRANGE', LINE, -1, -1, 'WITHSCORES')
    return #last > 0 and math.floor(tonumber(last[2])) + 1 or 1
end

-- Where a queue joins at arrival `stamp` (ArrivalStamp: the caller's clock, the same on every node):
-- at its stamp, held within a tenth of a second of `now` (this node's clock, in the same units, when
-- the script may read it; read here unless given: the scripts that call this include server-clock),
-- so that a process whose clock is off goes ahead of (or behind) no more than that much of the
-- others' arrivals, each time it joins.
local function place(stamp, now)
    stamp = tonumber(stamp)
    now = now or clock_allowed and server_ms() * 10
    return now and math.min(math.max(stamp, now - 1000), now + 1000) or stamp
end

-- Keeps (or takes, at the end, or at `ticket`: see place) the place of queue `id`: the line
-- outlives its holder by a minute.
local function join(id, pttl, ttl, listed, ticket)
    if not listed then
        redis.call('ZADD', LINE, ticket or next_ticket(), id)
    end
    redis.call('PEXPIRE', LINE, math.max(pttl, ttl) + 60000)
end

-- Tells everyone in line: 'h:<ms>', a turn was handed over (look again after that long, unless
-- woken first); 'c:<ms>:<queue>', queue `by` took it (held that long: the taker itself does not
-- count on it, as a Redlock round may yet undo its take).
local function announce(kind, ms, by)
    redis.call(PUB, LOCK .. ':handoff', kind .. ':' .. ms .. (by and ':' .. by or ''))
end

-- The default reservation: the hold's key names the woken queue for the grace.
local function reserve_key(id, grace)
    redis.call('SET', LOCK, RESERVED_PREFIX .. id, 'PX', grace)
end

-- A failed Redlock attempt took queue `id`'s turn here while the release was still on its way to
-- other nodes: the turn stays the queue's, for the `ms` left of it and no longer (so queues that keep
-- splitting cannot keep turns for ever), and those in line, who heard it taken, look again after it.
local function give_back(id, ms)
    reserve_key(id, ms)
    announce('h', ms)
end

-- Hands up to `free` turns to the first queues in line that still listen (behind queue `after`, when
-- given; by place, not score: two queues can share a score): each is woken and gets reserve(id) for
-- the grace. One woken with others behind it leaves the line (it comes back at the end if it asks
-- again), so a stalled queue costs the others one grace; they hear when to look again.
local function hand_over(free, reserve, after)
    reserve = reserve or reserve_key
    local given, behind, steps = 0, false, 0
    while given < free and steps < 1000 do
        steps = steps + 1
        local from = after and redis.call('ZRANK', LINE, after) or -1
        local head = redis.call('ZRANGE', LINE, from + 1, from + 2)
        if #head == 0 then
            break
        end
        local alive = redis.call(PUB, LOCK .. ':wake:' .. head[1], NOTICE) > 0
        behind = #head > 1
        if behind or not alive then
            redis.call('ZREM', LINE, head[1])
        end
        if alive then
            reserve(head[1], GRACE)
            given = given + 1
        end
    end
    if given > 0 and behind then
        announce('h', GRACE)
    elseif steps == 1000 and given < free then
        announce('h', 0)
    end
    return given
end

-- Queue `id` took what it waited for. With `stay` (its process has more waiters) it stands in line
-- again: at `ticket` when given (its attempt's arrival, placed as `place` does, so at one place on
-- every node of a Redlock), from wherever it stood; else it keeps its place, or takes one at the
-- end. Otherwise it leaves the line. True when it had been taken out of the line. (`listed`: whether
-- it is in line, when the caller knows.)
local function took(id, stay, ttl, listed, ticket)
    if listed == nil then
        listed = redis.call('ZSCORE', LINE, id)
    end
    if stay then
        join(id, 0, ttl, listed and not ticket, ticket)
    elseif listed then
        redis.call('ZREM', LINE, id)
    end
    return not listed
end

-- The releaser's own process is next in line (queue `queue`, or nobody is in line): its waiter `id`
-- takes the lock at once, for `ttl` ms, instead of a wake and a claim: a handoff in one round trip.
-- As after hand_over, with others in line the queue goes to the end (if it `stay`s) and they hear it
-- taken. False when another queue is first: the turn is theirs.
local function hand_to(queue, id, ttl, stay)
    local head = redis.call('ZRANGE', LINE, 0, 1)
    if head[1] and head[1] ~= queue then
        return false
    end
    if head[2] then
        redis.call('ZREM', LINE, queue)
    end
    redis.call('SET', LOCK, id, 'PX', ttl)
    took(queue, stay, ttl, head[1] ~= nil and not head[2])
    if head[2] then
        announce('c', ttl, queue)
    end
    return true
end

-- Queue `id` leaves without what it waited for: `free` turns (its reservation, or a free hold) go
-- to the next in line; if it was first, the new first looks again (what held it back may be gone).
local function leave(id, free, reserve)
    local was_first = first() == id
    redis.call('ZREM', LINE, id)
    if free > 0 then
        return hand_over(free, reserve)
    end
    while was_first do
        local head = first()
        if not head or redis.call(PUB, LOCK .. ':wake:' .. head, NOTICE) > 0 then
            break
        end
        redis.call('ZREM', LINE, head)
    end
    return 0
end
