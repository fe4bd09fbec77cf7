-- wrk script: a mixed command load over customers and orders created beforehand.
-- Env: CUSTOMERS (count of pre-registered customers "bc-0".."bc-N-1"), ORDERS (pre-placed
-- orders "bo-0".."bo-N-1"), RUN (a unique prefix for the ids this run creates).
-- Mix per 10 requests: 2 register, 3 place, 2 rename, 1 change-email, 1 add-line, 1 change-credit-limit.
local customers = tonumber(os.getenv("CUSTOMERS") or "1000")
local orders = tonumber(os.getenv("ORDERS") or "5000")
local run = os.getenv("RUN") or "r"
local counter = 0
local thread_id = 0

setup = function(thread)
   thread_id = thread_id + 1
   thread:set("tid", thread_id)
end

init = function(args)
   math.randomseed(os.time() + (tid or 0))
end

local json = { ["Content-Type"] = "application/json" }

local function post(path, body)
   return wrk.format("POST", path, json, body)
end

request = function()
   counter = counter + 1
   local n = counter
   local k = n % 10
   local tag = run .. "-" .. (tid or 0) .. "-" .. n
   if k == 0 or k == 5 then
      return post("/commands/customers/register",
         '{"customerId":"nc-' .. tag .. '","name":"Load Test ' .. n .. '","email":"lt' .. n .. '@example.com","creditLimit":1000000000000,"currency":"EUR"}')
   elseif k == 1 or k == 6 or k == 8 then
      local c = math.random(0, customers - 1)
      return post("/commands/orders/place",
         '{"orderId":"no-' .. tag .. '","customerId":"bc-' .. c .. '","currency":"EUR","lines":[{"sku":"SKU-1","quantity":2,"unitPrice":1250},{"sku":"SKU-2","quantity":1,"unitPrice":999}]}')
   elseif k == 2 or k == 7 then
      local c = math.random(0, customers - 1)
      return post("/commands/customers/bc-" .. c .. "/rename", '{"name":"Renamed ' .. tag .. '"}')
   elseif k == 3 then
      local c = math.random(0, customers - 1)
      return post("/commands/customers/bc-" .. c .. "/change-email", '{"email":"m' .. n .. '@example.org"}')
   elseif k == 4 then
      local o = math.random(0, orders - 1)
      return post("/commands/orders/bo-" .. o .. "/add-line", '{"sku":"X' .. tag .. '","quantity":1,"unitPrice":1}')
   else
      local c = math.random(0, customers - 1)
      return post("/commands/customers/bc-" .. c .. "/change-credit-limit", '{"creditLimit":' .. (2000000000000 + n) .. '}')
   end
end

local statuses = {}
response = function(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 500 and (statuses[status] <= 3) then
      io.stderr:write("server error " .. status .. ": " .. body .. "\n")
   end
end
