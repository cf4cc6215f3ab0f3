-- Included by acquire.lua, acquire-read.lua and acquire-semaphore.lua (KEYS[2]: the line of waiters).
-- Keeps (or takes) the place of waiter `id` in the line after a refusal. A new waiter joins the end;
-- a waiter woken and moved back, or marked in place, that asks again is alive after all: its mark
-- is cleared and it keeps its place (see wake-next.lua). The line outlives the holder, so it is
-- there at the release; a line whose waiters all died expires a minute after the holder (the
-- longest holder: `holder_pttl`, in ms) or a holder of `ttl` would.
local function join_line(id, holder_pttl, ttl)
    local place = redis.call('ZSCORE', KEYS[2], id)
    if not place then
        local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        local ticket = 1
        if #last > 0 then
            ticket = math.floor(tonumber(last[2])) + 1
        end
        redis.call('ZADD', KEYS[2], ticket, id)
    elseif tonumber(place) % 1 ~= 0 then
        redis.call('ZADD', KEYS[2], math.floor(tonumber(place)), id)
    end
    redis.call('PEXPIRE', KEYS[2], math.max(holder_pttl, tonumber(ttl)) + 60000)
end
