-- Included before wake-next by the scripts of a semaphore (after permits.lua; ARGV[3]: the grace in ms).
-- Reserves a permit for the waiter a release woke: an entry RESERVED_PREFIX .. id among the holders,
-- which counts against the limit for the grace; the waiter's acquire turns it into its own entry.
local function reserve(id)
    redis.call('ZADD', KEYS[1], NOW + tonumber(ARGV[3]), RESERVED_PREFIX .. id)
end
