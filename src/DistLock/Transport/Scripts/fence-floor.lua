-- Raises the fencing counter to at least the token a Redlock acquisition chose (the highest its
-- nodes issued), so that any later majority includes a node that issues above it.
-- KEYS[1]: the fencing counter; ARGV[1]: the token
-- Returns 1.
if (tonumber(redis.call('GET', KEYS[1])) or 0) < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[1], ARGV[1])
end
return 1
