-- Deletes a lock whoever holds it (an operator clearing a stuck lock), then wakes the next
-- waiter so that nobody waits out the old holder's TTL. The old holder's next extension is
-- refused, which fires its lost signal.
-- KEYS[1]: the lock key; KEYS[2]: the line of waiters; KEYS[3]: the readers (see acquire-read.lua)
-- ARGV[2]: the notice to publish; ARGV[3]: how long the lock stays reserved for the woken waiter, in ms
-- ARGV[4]: the publish command, PUBLISH or SPUBLISH (Redis Cluster)
-- Returns {1 when a lock was deleted, else 0; what wake_next returned (2 or 3: another pass, see wake-next.lua)}.
--@include reserve-lock
--@include wake-next
local deleted = redis.call('DEL', KEYS[1])
-- The readers' leases go with the lock: readers woken now must not find the old ones still in the set.
redis.call('DEL', KEYS[3])
return {deleted, wake_next()}
