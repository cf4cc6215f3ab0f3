-- Deletes the lock, only while the caller still owns it, and wakes the first waiter in line.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters (a sorted set in the same hash slot)
-- ARGV[1]: the lock value (owner id); ARGV[2]: the notice to publish, one per release
-- Returns 1 when deleted, 0 when the key is gone or held by someone else.
-- A waiter listens on KEYS[1]..':wake:'..id; PUBLISH counts the listeners, so a waiter that died
-- or left (nobody listens) is dropped from the line and the next one is woken instead.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('DEL', KEYS[1])
for _ = 1, 16 do
    local first = redis.call('ZRANGE', KEYS[2], 0, 0)
    if #first == 0 then
        break
    end
    if redis.call('PUBLISH', KEYS[1] .. ':wake:' .. first[1], ARGV[2]) > 0 then
        break
    end
    redis.call('ZREM', KEYS[2], first[1])
end
return 1
