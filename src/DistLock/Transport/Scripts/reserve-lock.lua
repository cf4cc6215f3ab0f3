-- Included before wake-next by the scripts of a lock (KEYS[1]: the lock key; ARGV[3]: the grace in ms).
-- Reserves the lock for the waiter a release woke: nobody else can take it during the grace.
local function reserve(id)
    redis.call('SET', KEYS[1], RESERVED_PREFIX .. id, 'PX', ARGV[3])
end

-- Reserves the lock for the readers a release woke: no writer can take it during the grace.
local function reserve_readers()
    redis.call('SET', KEYS[1], READERS_MARKER, 'PX', ARGV[3])
end
