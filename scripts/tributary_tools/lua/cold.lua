-- wrk script for `scripts/bench cold-commands`. Env MODE:
--   register: customers cw-START, cw-(START+1), ... in order (one wrk thread; START defaults to 0);
--   rename:   a rename of a customer drawn at random from cw-0 .. cw-(CUSTOMERS-1).
-- done() prints "status CODE COUNT" lines.
local mode = os.getenv("MODE") or "register"
local customers = tonumber(os.getenv("CUSTOMERS") or "1000")
local counter = tonumber(os.getenv("START") or "0")
local threads = {}
statuses = {}

setup = function(thread)
   table.insert(threads, thread)
end

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
   statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses") or {}) do total[k] = (total[k] or 0) + v end
   end
   for k, v in pairs(total) do io.write("status " .. k .. " " .. v .. "\n") end
end
