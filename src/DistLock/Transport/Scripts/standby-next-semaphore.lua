-- Goes on looking for the waiter to stand by behind the one a semaphore's release woke, after a call
-- of wake_next returned 3 (it ran out of steps among dead or marked entries).
-- KEYS: see permits.lua; ARGV[2]: the notice; ARGV[4]: PUBLISH or SPUBLISH
-- The woken waiter is the last marked entry of the line whose permit is still reserved (wake_next
-- moved it to the end); with none (claimed, or expired) there is nobody to stand by behind.
-- Returns what wake_next returns; 0 when no permit is reserved for a marked waiter any more.
--@include permits
--@include reserve-permit
--@include wake-next
local tail = redis.call('ZREVRANGE', KEYS[2], 0, 63, 'WITHSCORES')
for i = 1, #tail, 2 do
    local id = tail[i]
    if tonumber(tail[i + 1]) % 1 ~= 0 then
        local reserved = tonumber(redis.call('ZSCORE', KEYS[1], RESERVED_PREFIX .. id))
        if reserved and reserved > NOW then
            return wake_next(id)
        end
        return 0
    end
end
return 0
