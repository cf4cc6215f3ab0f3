-- Issues the next fencing token of a lock, only while the caller holds it (on demand: an acquire
-- issues none, so tokens are ordered as the holds that asked for them); or, with a floor, raises the
-- counter to it (a Redlock token: see RedlockProtocol), also only while the caller holds it.
-- KEYS[1]: the lock; KEYS[2]: its fencing counter. ARGV[1]: the lock id; ARGV[2]: how long the
-- counter outlives its last token, in ms; ARGV[3]: the clock floor's resolution (see next-fence.lua);
-- ARGV[4]: the floor, or 0. Returns the token, or 0 when the caller does not hold the lock.
--@include server-clock
--@include next-fence
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
return fence(KEYS[2])
