-- Reads a lock's state in one step, for tools: who holds it, for how long, the fencing counter
-- and the length of the line of waiters. Changes nothing.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters; KEYS[3]: the fencing counter
-- Returns {value or false, pttl, counter or false, waiters}.
return {
    redis.call('GET', KEYS[1]),
    redis.call('PTTL', KEYS[1]),
    redis.call('GET', KEYS[3]),
    redis.call('ZCARD', KEYS[2]),
}
