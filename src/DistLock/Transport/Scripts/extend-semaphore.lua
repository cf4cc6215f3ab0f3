-- Resets one holder's permit, only while its entry is live; never re-creates it (a permit whose lease
-- ran out may be someone else's now). KEYS: see permits.lua. ARGV[1]: the lock id; ARGV[2]: the
-- new TTL in ms (> 0). Returns 1 when extended, 0 when the entry is gone.
--@include server-clock
--@include permits
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    return 0
end
redis.call('ZADD', KEYS[1], NOW + tonumber(ARGV[2]), ARGV[1])
settle()
return 1
