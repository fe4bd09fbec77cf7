-- wrk script for `scripts/bench cold-commands`. Env MODE:
--   register: customers cw-START, cw-(START+1), ... in order (one wrk thread; START defaults to 0);
--   rename:   a rename of a customer drawn at random from cw-0 .. cw-(CUSTOMERS-1).
-- done() prints "status CODE COUNT" lines.
local mode = os.getenv("MODE") or "register"
local customers = tonumber(os.getenv("CUSTOMERS") or "1000")
local counter = tonumber(os.getenv("START") or "0")
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")

init = function(args)
   math.randomseed(os.time())
end

request = function()
   local headers = { ["Content-Type"] = "application/json" }
   if mode == "register" then
      local id = "cw-" .. counter
      counter = counter + 1
      return wrk.format("POST", "/commands/customers/register", headers,
         '{"customerId":"' .. id .. '","name":"Cold Customer","email":"' .. id .. '@example.com","creditLimit":100000,"currency":"EUR"}')
   end
   counter = counter + 1
   local id = "cw-" .. math.random(0, customers - 1)
   return wrk.format("POST", "/commands/customers/" .. id .. "/rename", headers, '{"name":"Renamed ' .. counter .. '"}')
end

response = function(status, headers, body)
   count_status(status)
end
