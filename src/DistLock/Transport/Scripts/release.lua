-- Releases the lock, only while the caller still owns it, and hands it to the first queue in line.
-- KEYS[1]: the lock; KEYS[2]: its line. ARGV[1..3]: see line.lua; ARGV[4]: the lock id.
-- Returns 1 when released, 0 when the lock was not the caller's (it expired, or was taken over).
--@include line
if redis.call('GET', KEYS[1]) ~= ARGV[4] then
    return 0
end
if hand_over(1) == 0 then
    redis.call('DEL', KEYS[1])
end
return 1
