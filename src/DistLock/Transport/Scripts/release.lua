-- Releases the lock, only while the caller still owns it, and hands it to the first waiter in line.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters (a sorted set in the same hash slot)
-- ARGV[1]: the lock value (owner id); ARGV[2]: the notice to publish, one per release;
-- ARGV[3]: how long the lock stays reserved for the woken waiter, in milliseconds
-- Returns 1 when released, 0 when the key is gone or held by someone else.
-- A waiter listens on KEYS[1]..':wake:'..id; PUBLISH counts the listeners, so a waiter that died
-- or left (nobody listens) is dropped from the line and the next one is woken instead. The woken
-- waiter finds the lock reserved for it, so a newcomer cannot take it first; a reservation that
-- nobody claims expires, and the lock is free again.
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
        redis.call('SET', KEYS[1], 'reserved:' .. first[1], 'PX', ARGV[3])
        break
    end
    redis.call('ZREM', KEYS[2], first[1])
end
return 1
