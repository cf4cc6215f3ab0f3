-- Releases a lock, or a set of locks taken together (acquire-all.lua), each only while the caller
-- still owns it, and hands each to the first queue in its line.
-- KEYS[1], KEYS[2]: the lock and its line; for a set, then the next lock and its line, and so on. ARGV[1..3]: see line.lua; ARGV[4]: the lock id.
-- Returns 1 when every lock was the caller's and is released, 0 when one was not (it expired, or
-- was taken over): the others are released all the same.
local unpack = table.unpack or unpack
local all, mine, lines = 1, {}, {}
for i = 2, #KEYS, 2 do
    if redis.call('GET', KEYS[i - 1]) == ARGV[4] then
        mine[#mine + 1] = i
        lines[#lines + 1] = KEYS[i]
    else
        all = 0
    end
end
if #mine == 0 then
    return all
end
-- Most releases find nobody in line (one EXISTS over every line tells) and end before the line's
-- helpers are set up: setting them up costs the server more than the delete does.
if redis.call('EXISTS', unpack(lines)) == 0 then
    local locks = {}
    for _, i in ipairs(mine) do
        locks[#locks + 1] = KEYS[i - 1]
    end
    redis.call('DEL', unpack(locks))
    return all
end
--@include line
for _, i in ipairs(mine) do
    LOCK, LINE = KEYS[i - 1], KEYS[i]
    if hand_over(1) == 0 then
        redis.call('DEL', LOCK)
    end
end
return all
