-- Frees permits whoever holds them (an operator clearing a stuck holder): holder ARGV[4]'s, or with ''
-- every holder's (permits handed to woken queues stay theirs), and hands each to the next in line.
-- The freed holders' next extension is refused. KEYS: see permits.lua. ARGV[1..3]: see line.lua.
-- Returns how many permits were freed.
--@include server-clock
--@include line
--@include permits
local freed = 0
if ARGV[4] ~= '' then
    freed = redis.call('ZREM', KEYS[1], ARGV[4])
else
    for _, holder in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
        if string.sub(holder, 1, #RESERVED_PREFIX) ~= RESERVED_PREFIX then
            freed = freed + redis.call('ZREM', KEYS[1], holder)
        end
    end
end
hand_over(freed, reserve_permit)
settle()
return freed
