-- Takes the lock for a waiting queue: when it is reserved for that queue (a release woke it), or
-- free and the queue is first in line. Otherwise the queue keeps (or takes) its place, and a free
-- lock goes to the first in line. A caller that does not wait sends SET NX PX instead.
-- KEYS[1]: the lock; KEYS[2]: its line. ARGV[1..3]: see line.lua; ARGV[4]: the lock id;
-- ARGV[5]: the TTL in ms; ARGV[6]: the queue; ARGV[7]: '1' when the queue keeps its place (its
-- process has more waiters); ARGV[8]: where it joins the line (its arrival stamp). Returns {1} when
-- taken ({1, 1} when it took the queue's turn, which a failed Redlock attempt gives back: see
-- release.lua), or {0, pttl, value}: how long it is held or reserved, and by what (a lock id, or
-- RESERVED_PREFIX and a queue): a Redlock waiter that took its turn elsewhere tells a rival's turn
-- from a holder still on its way out.
--@include server-clock
--@include line
local id, ttl, queue = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local value = redis.call('GET', KEYS[1])
if value == id then
    -- Its own grant, from an attempt whose answer it did not wait for: being given back, not a
    -- holder to sleep on (-3: look again soon).
    return {0, -3}
end
if not value and (first() or queue) ~= queue then
    -- Free, and others are first in line (asleep, or gone): the turn is theirs, or this queue's.
    hand_over(1)
    value = redis.call('GET', KEYS[1])
end
if value == RESERVED_PREFIX .. queue or not value and (first() or queue) == queue then
    redis.call('SET', KEYS[1], id, 'PX', ttl)
    -- A queue that stays goes to its attempt's stamp, the same place on every node; one handed its
    -- turn while still in line was alone there (see hand_over), and keeps its place.
    local stay, listed = ARGV[7] == '1', redis.call('ZSCORE', KEYS[2], queue)
    if took(queue, stay, ttl, listed, stay and not (value and listed) and place(ARGV[8])) and value then
        announce('c', ttl, queue)
    end
    return value and {1, 1} or {1}
end
local pttl = redis.call('PTTL', KEYS[1])
join(queue, pttl, ttl, redis.call('ZSCORE', KEYS[2], queue), place(ARGV[8]))
return {0, pttl, value or ''}
