-- wrk script for `scripts/loadtest queries --rate 0`: 60% detail reads over the paths in $PATHS
-- (one per line), 25% list pages of /queries/orders?limit=50 following nextCursor from responses,
-- 15% /queries/stats. done() prints "status CODE COUNT" lines. PREFIX (optional) goes before every
-- path (e.g. /processes/orders-q1 through a scripts/cluster front).
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")
local prefix = os.getenv("PREFIX") or ""
local cursors, n = {}, 0
init = function(args) math.randomseed(os.time()) end
request = function()
   n = n + 1
   local k = n % 20
   if k < 12 then
      return wrk.format("GET", prefix .. paths[math.random(1, #paths)])
   elseif k < 17 then
      local c = table.remove(cursors)
      if c then return wrk.format("GET", prefix .. "/queries/orders?limit=50&cursor=" .. c) end
      return wrk.format("GET", prefix .. "/queries/orders?limit=50")
   end
   return wrk.format("GET", prefix .. "/queries/stats")
end
response = function(status, headers, body)
   count_status(status)
   local c = string.match(body, '"nextCursor":"([^"]+)"')
   if c and #cursors < 256 then cursors[#cursors + 1] = c end
end
