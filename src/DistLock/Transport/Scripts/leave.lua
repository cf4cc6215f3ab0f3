-- A queue leaves the line of a lock (or of each lock of a set) without it (it gave up, or closed):
-- a lock reserved for it, or a free lock, goes to the next queue in line. Readers and writers share
-- this line.
-- KEYS[1], KEYS[2]: the lock and its line; for a set, then the next lock and its line, and so on. ARGV[1..3]: see line.lua; ARGV[4]: the queue.
--@include line
for i = 2, #KEYS, 2 do
    LOCK, LINE = KEYS[i - 1], KEYS[i]
    local value = redis.call('GET', LOCK)
    local reserved = value == RESERVED_PREFIX .. ARGV[4]
    if leave(ARGV[4], (reserved or not value) and 1 or 0) == 0 and reserved then
        redis.call('DEL', LOCK)
    end
end
return 1
