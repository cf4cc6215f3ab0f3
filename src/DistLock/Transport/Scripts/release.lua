-- Releases a lock, or a set of locks taken together (acquire-all.lua), each only while the caller
-- still owns it, and hands each to the first queue in its line.
-- KEYS[1], KEYS[2]: the lock and its line; for a set, then the next lock and its line, and so on. ARGV[1..3]: see line.lua; ARGV[4]: the lock id.
-- Returns 1 when every lock was the caller's and is released, 0 when one was not (it expired, or
-- was taken over): the others are released all the same.
--@include line
local all = 1
for i = 2, #KEYS, 2 do
    LOCK, LINE = KEYS[i - 1], KEYS[i]
    if redis.call('GET', LOCK) ~= ARGV[4] then
        all = 0
    elseif hand_over(1) == 0 then
        redis.call('DEL', LOCK)
    end
end
return all
