-- Deletes a lock whoever holds it (an operator clearing a stuck lock), with its readers' leases, and
-- hands it to the next in line. The old holders' next extension is refused.
-- KEYS[1]: the lock; KEYS[2]: its line; KEYS[3]: its readers. ARGV[1..3]: see line.lua.
-- Returns 1 when a lock key was deleted, else 0.
--@include line
local deleted = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[3])
hand_over(1)
return deleted
