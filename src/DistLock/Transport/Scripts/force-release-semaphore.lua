-- Frees permits of a semaphore whoever holds them (an operator clearing a stuck holder): the entry
-- of holder ARGV[1], or with '' every holder's (permits a release reserved for a woken waiter stay
-- theirs), then wakes one waiter per permit freed, each with the permit reserved for the grace,
-- as that many releases would, so that nobody waits out a TTL. A freed holder's next extension is
-- refused, which fires its lost signal.
-- KEYS: see permits.lua
-- ARGV[1]: the holder's lock id, or '' for every holder; ARGV[2]: the notice to publish;
-- ARGV[3]: how long a freed permit stays reserved for the woken waiter, in ms;
-- ARGV[4]: the publish command, PUBLISH or SPUBLISH (Redis Cluster)
-- Returns {permits freed, what the last wake_next returned (2 or 3: another pass, see wake-next.lua)}.
--@include permits
--@include reserve-permit
--@include wake-next
prune()
local freed = 0
if ARGV[1] ~= '' then
    freed = redis.call('ZREM', KEYS[1], ARGV[1])
else
    for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
        if string.sub(id, 1, #RESERVED_PREFIX) ~= RESERVED_PREFIX then
            redis.call('ZREM', KEYS[1], id)
            freed = freed + 1
        end
    end
end
local woke = 0
for _ = 1, freed do
    woke = wake_next()
    if woke ~= 1 then
        break
    end
end
settle()
return {freed, woke}
