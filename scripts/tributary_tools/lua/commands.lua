-- wrk script for `scripts/loadtest commands --rate 0` (flat out): the realistic command mix with
-- unique ids and Idempotency-Keys over customers "lc-0".."lc-(CUSTOMERS-1)" and orders
-- "lo-0".."lo-(ORDERS-1)" placed (and approved) beforehand. Orders are split in thirds: the first
-- third takes add-line/remove-line, the second is cancelled, the third shipped (each once, in order;
-- when a third is used up the request becomes a place). Env: CUSTOMERS, ORDERS, RUN (unique id
-- prefix), SEED_PREFIX (default l: ids lc-N, lo-N), THREADS, CONNS. Per 20 requests: 2 register, 8 place (1-5 lines), 3 add-line,
-- 2 remove-line, 2 cancel, 3 ship. done() prints "status CODE COUNT" lines and "ops ..." counts.
local customers = tonumber(os.getenv("CUSTOMERS") or "1000")
local orders = tonumber(os.getenv("ORDERS") or "3000")
local run = os.getenv("RUN") or "r"
local sp = os.getenv("SEED_PREFIX") or "l"
local nthreads = tonumber(os.getenv("THREADS") or "1")
local conns = tonumber(os.getenv("CONNS") or "256")
local third = math.floor(orders / 3)
local threads = {}
local counter, ncancel, nship = 0, 0, 0
local added, added_head, added_tail = {}, 1, 0
statuses = {}
ops = {}
local slots = { "register", "place", "add", "place", "ship", "remove", "place", "cancel", "add", "place",
                "register", "place", "ship", "place", "add", "remove", "place", "cancel", "ship", "place" }

setup = function(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

init = function(args)
   math.randomseed(os.time() * 1000 + (tid or 0))
end

local function post(path, body, tag)
   return wrk.format("POST", path, { ["Content-Type"] = "application/json", ["Idempotency-Key"] = "k-" .. tag }, body)
end

local function lines(n, tag)
   local t = {}
   for i = 1, n do
      t[i] = '{"sku":"S' .. i .. '-' .. math.random(1, 40) .. '","quantity":' .. math.random(1, 5) ..
             ',"unitPrice":' .. math.random(100, 20000) .. '}'
   end
   return "[" .. table.concat(t, ",") .. "]"
end

local function count(op) ops[op] = (ops[op] or 0) + 1 end

request = function()
   counter = counter + 1
   local n = counter
   local tag = run .. "-" .. (tid or 0) .. "-" .. n
   local op = slots[(n - 1) % 20 + 1]
   if op == "cancel" then
      local i = (tid or 0) + ncancel * nthreads
      if i < third then
         ncancel = ncancel + 1; count("cancel")
         return post("/commands/orders/" .. sp .. "o-" .. (third + i) .. "/cancel", '{"reason":"load test"}', tag)
      end
      op = "place"
   elseif op == "ship" then
      local i = (tid or 0) + nship * nthreads
      if i < orders - 2 * third then
         nship = nship + 1; count("ship")
         return post("/commands/orders/" .. sp .. "o-" .. (2 * third + i) .. "/ship", '{}', tag)
      end
      op = "place"
   elseif op == "remove" then
      if added_tail - added_head >= 2 * conns then
         local e = added[added_head]; added[added_head] = nil; added_head = added_head + 1
         count("remove-line")
         return post("/commands/orders/" .. e[1] .. "/remove-line", '{"sku":"' .. e[2] .. '"}', tag)
      end
      op = "add"
   end
   if op == "register" then
      count("register")
      return post("/commands/customers/register", '{"customerId":"nc-' .. tag .. '","name":"Load ' .. n ..
         '","email":"l' .. n .. '@example.com","creditLimit":100000000000000,"currency":"EUR"}', tag)
   elseif op == "add" and third > 0 then
      local o = sp .. "o-" .. math.random(0, third - 1)
      local sku = "X" .. tag
      added_tail = added_tail + 1; added[added_tail] = { o, sku }
      count("add-line")
      return post("/commands/orders/" .. o .. "/add-line", '{"sku":"' .. sku .. '","quantity":1,"unitPrice":1}', tag)
   end
   count("place")
   return post("/commands/orders/place", '{"orderId":"no-' .. tag .. '","customerId":"' .. sp .. 'c-' ..
      math.random(0, customers - 1) .. '","currency":"EUR","lines":' .. lines(math.random(1, 5), tag) .. '}', tag)
end

response = function(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status >= 500 and statuses[status] <= 3 then
      io.stderr:write("server error " .. status .. ": " .. body .. "\n")
   end
end

done = function(summary, latency, requests)
   local total, optot = {}, {}
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses") or {}) do total[k] = (total[k] or 0) + v end
      for k, v in pairs(t:get("ops") or {}) do optot[k] = (optot[k] or 0) + v end
   end
   for k, v in pairs(total) do io.write("status " .. k .. " " .. v .. "\n") end
   local s = "ops"
   for k, v in pairs(optot) do s = s .. " " .. k .. "=" .. v end
   io.write(s .. "\n")
end
