-- Gives back one holder's permit, only while its entry is live, and hands it to the first queue in
-- line. KEYS: see permits.lua. ARGV[1..3]: see line.lua; ARGV[4]: the lock id.
-- Returns 1 when released, 0 when the entry was gone.
--@include server-clock
--@include line
--@include permits
if redis.call('ZREM', KEYS[1], ARGV[4]) == 0 then
    return 0
end
hand_over(1, reserve_permit)
settle()
return 1
