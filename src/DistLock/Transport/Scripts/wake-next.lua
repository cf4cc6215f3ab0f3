-- Included by release.lua, pass-on.lua and force-release.lua, after a fragment that defines reserve(id),
-- what a woken waiter gets for the grace (reserve-lock.lua: the lock) (same KEYS; ARGV[2]: the notice; ARGV[3]: the
-- grace in ms; ARGV[4]: PUBLISH, or SPUBLISH in Redis Cluster, where the wake channel shares the lock's slot).
-- Wakes the first waiter in line that someone listens for, on KEYS[1]..':wake:'..id, and reserves
-- the lock for it for the grace. PUBLISH counts the listeners, so a waiter that died or left is
-- dropped from the line and the next one is tried.
-- A listener can still be stalled (a paused process keeps its subscription), so the woken waiter
-- is moved to the end of the line, marked (a score of n + 0.5): claiming the reservation takes it
-- out of the line, and any attempt it makes clears the mark. A marked waiter that comes to the head
-- again, having made no attempt since, is dropped: it has missed a turn and shown no life since.
-- The next unmarked waiter gets a standby notice ('standby:' .. notice): it looks again when the
-- reservation expires, so an unclaimed reservation delays it by the grace and one round trip.
-- At most 64 steps per call, so a fleet of dead entries costs bounded work per script; the caller
-- goes on in further calls. Returns 0 when nobody waits, 1 when a waiter was woken (and the next
-- one, if any, was told to stand by), 2 when it stopped before waking anyone (run pass-on.lua with
-- an empty id to go on), 3 when it woke one but stopped before finding the next (run
-- standby-next.lua to go on). With the id of a waiter already woken, it only looks for the next.
-- Readers (ids starting with READER_PREFIX) take turns as a group: when the first live waiter is a
-- reader, it and every reader behind it up to the next writer are woken at once, each marked in
-- place (they share the lock, so none goes to the end), the lock is reserved for readers
-- (reserve_readers), and that writer gets the standby notice. A dead writer among them is dropped,
-- and the readers behind it join the group.
local function channel(id)
    return KEYS[1] .. ':wake:' .. id
end

local function is_reader(id)
    return string.sub(id, 1, #READER_PREFIX) == READER_PREFIX
end

-- Wakes the readers from place `skip` on, up to the next writer (see above). Readers already
-- woken (marked) are passed over without counting against the 64 steps, so a continuation
-- always gets further. Returns 1 when done, 3 when it stopped early (standby-next.lua goes on).
local function wake_readers(skip)
    local steps = 0
    while true do
        local entries = redis.call('ZRANGE', KEYS[2], skip, skip + 63, 'WITHSCORES')
        if #entries == 0 then
            return 1
        end
        local removed = 0
        for i = 1, #entries, 2 do
            local id, score = entries[i], tonumber(entries[i + 1])
            if score % 1 ~= 0 then
                if not is_reader(id) then
                    return 1
                end
            elseif steps >= 64 then
                return 3
            else
                steps = steps + 1
                if not is_reader(id) then
                    if redis.call(ARGV[4], channel(id), STANDBY_PREFIX .. ARGV[2]) > 0 then
                        return 1
                    end
                    redis.call('ZREM', KEYS[2], id)
                    removed = removed + 1
                elseif redis.call(ARGV[4], channel(id), ARGV[2]) > 0 then
                    redis.call('ZADD', KEYS[2], score + 0.5, id)
                else
                    redis.call('ZREM', KEYS[2], id)
                    removed = removed + 1
                end
            end
        end
        skip = skip + math.floor(#entries / 2) - removed
    end
end

local function wake_next(already_woken)
    local woken = already_woken
    local skip = 0
    for _ = 1, 64 do
        local entry = redis.call('ZRANGE', KEYS[2], skip, skip, 'WITHSCORES')
        if #entry == 0 or entry[1] == woken then
            return woken and 1 or 0
        end
        local id = entry[1]
        local marked = tonumber(entry[2]) % 1 ~= 0
        if marked and not woken then
            redis.call('ZREM', KEYS[2], id)
        elseif marked then
            skip = skip + 1
        elseif woken then
            if redis.call(ARGV[4], channel(id), STANDBY_PREFIX .. ARGV[2]) > 0 then
                return 1
            end
            redis.call('ZREM', KEYS[2], id)
        elseif redis.call(ARGV[4], channel(id), ARGV[2]) == 0 then
            redis.call('ZREM', KEYS[2], id)
        elseif is_reader(id) then
            reserve_readers()
            redis.call('ZADD', KEYS[2], tonumber(entry[2]) + 0.5, id)
            return wake_readers(skip + 1)
        else
            reserve(id)
            local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
            redis.call('ZADD', KEYS[2], math.floor(tonumber(last[2])) + 1.5, id)
            woken = id
        end
    end
    return woken and 3 or 2
end
