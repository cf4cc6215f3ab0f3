-- Resets the lease of one holder of a semaphore, only while its entry is still live; never
-- re-creates it (a holder whose lease ran out has lost its permit, which may be someone else's now).
-- KEYS: see permits.lua
-- ARGV[1]: the holder's lock id; ARGV[2]: new time to live in milliseconds (> 0)
-- Returns 1 when extended, 0 when the entry is gone.
--@include permits
prune()
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    return 0
end
redis.call('ZADD', KEYS[1], NOW + tonumber(ARGV[2]), ARGV[1])
settle()
return 1
