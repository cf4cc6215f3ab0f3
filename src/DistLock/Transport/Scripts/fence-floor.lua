-- Raises the fencing counter to at least the token a Redlock acquisition chose (the highest its
-- nodes issued), so that any later majority includes a node that issues above it.
-- KEYS[1]: the fencing counter; ARGV[1]: the token; ARGV[2]: how long the counter outlives it, in ms
-- (ignored before Redis 3.2, whose counters never expire: see next-fence.lua)
-- Returns 1.
if (tonumber(redis.call('GET', KEYS[1])) or 0) < tonumber(ARGV[1]) then
    if redis.replicate_commands ~= nil then
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    else
        redis.call('SET', KEYS[1], ARGV[1])
    end
end
return 1
