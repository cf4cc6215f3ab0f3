-- Issues the next fencing token of a lock, or of a set of locks taken together, only while the
-- caller holds each one (on demand: an acquire issues none, so tokens are ordered as the holds that
-- asked for them); or, with a floor, raises the counters to it (a Redlock token: see
-- RedlockProtocol), also only while the caller holds. A set's token is above every earlier token of
-- every member, and each member's counter is raised to it, so every later holder's is higher.
-- KEYS[1], KEYS[2]: the lock and its fencing counter; for a set, then the next lock and its counter, and so on. ARGV[1]: the lock id; ARGV[2]: how long a
-- counter outlives its last token, in ms; ARGV[3]: the clock floor's resolution (see
-- next-fence.lua); ARGV[4]: the floor, or 0. Returns the token, or 0 when the caller does not hold.
--@include server-clock
--@include next-fence
for i = 1, #KEYS, 2 do
    if redis.call('GET', KEYS[i]) ~= ARGV[1] then
        return 0
    end
end
local token = 0
for i = 2, #KEYS, 2 do
    token = math.max(token, fence(KEYS[i]))
end
for i = 2, #KEYS > 2 and #KEYS or 0, 2 do
    raise_fence(KEYS[i], token, tonumber(ARGV[2]))
end
return token
