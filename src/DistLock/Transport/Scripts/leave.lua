-- A queue leaves the lock's line without the lock (it gave up, or closed): the lock reserved for
-- it, or a free lock, goes to the next queue in line. Readers and writers share this line.
-- KEYS[1]: the lock; KEYS[2]: its line. ARGV[1..3]: see line.lua; ARGV[4]: the queue.
--@include line
local value = redis.call('GET', KEYS[1])
local reserved = value == RESERVED_PREFIX .. ARGV[4]
if leave(ARGV[4], (reserved or not value) and 1 or 0) == 0 and reserved then
    redis.call('DEL', KEYS[1])
end
return 1
