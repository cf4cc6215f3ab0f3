-- Releases a lock, or a set of locks taken together (acquire-all.lua), each only while the caller
-- still owns it, and hands each to the first queue in its line.
-- KEYS[1], KEYS[2]: the lock and its line; for a set, then the next lock and its line, and so on. ARGV[1..3]: see line.lua; ARGV[4]: the lock id.
-- ARGV[5], ARGV[6]: give back the turn of queue ARGV[5] that a failed attempt took (acquire.lua's
-- or acquire-all.lua's answer), with ARGV[6] ms left of it: each lock reserved for that queue again,
-- for no longer.
-- ARGV[5..8] (one lock only): when queue ARGV[5] (the releaser's own process) is first in line, or
-- nobody is, hand the lock straight to its waiter ARGV[6] for ARGV[7] ms; ARGV[8] '1' when the queue
-- keeps its place.
-- Returns 1 when every lock was the caller's and is released (2: and handed to ARGV[6]), 0 when one
-- was not (it expired, or was taken over): the others are released all the same.
-- Most releases are of one lock with nobody in line: they end here, before any table is made (the
-- set's tables cost the server more than the delete: 0.8 us a call, redis-benchmark) and before
-- the line's helpers are set up.
local all, waited = 1, nil
if #KEYS == 2 then
    if redis.call('GET', KEYS[1]) ~= ARGV[4] then
        return 0
    elseif #ARGV == 4 and redis.call('EXISTS', KEYS[2]) == 0 then
        return redis.call('DEL', KEYS[1])
    end
    waited = {2}
else
    -- (EXISTS one key at a time: several need Redis 3.0.3.)
    local free = {}
    waited = {}
    for i = 2, #KEYS, 2 do
        if redis.call('GET', KEYS[i - 1]) ~= ARGV[4] then
            all = 0
        elseif #ARGV ~= 6 and redis.call('EXISTS', KEYS[i]) == 0 then
            free[#free + 1] = KEYS[i - 1]
        else
            waited[#waited + 1] = i
        end
    end
    if #free > 0 then
        redis.call('DEL', (table.unpack or unpack)(free))
    end
    if #waited == 0 then
        return all
    end
end
--@include line
if #ARGV == 6 then
    for _, i in ipairs(waited) do
        LOCK, LINE = KEYS[i - 1], KEYS[i]
        give_back(ARGV[5], ARGV[6])
    end
    return all
elseif #ARGV == 8 and hand_to(ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8] == '1') then
    return 2
end
for _, i in ipairs(waited) do
    LOCK, LINE = KEYS[i - 1], KEYS[i]
    if hand_over(1) == 0 then
        redis.call('DEL', LOCK)
    end
end
return all
