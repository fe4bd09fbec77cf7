-- wrk script: THE command mix, for every wrk command load in scripts/ (scripts/bench, `scripts/loadtest
-- commands --rate 0`, `scripts/bench commands`, `scripts/bench restart`). Unique ids per request
-- ("nc-"/"no-" RUN-thread-n) over customers SEED_PREFIX.."c-0".. and orders SEED_PREFIX.."o-0".. created
-- beforehand. Env: MIX, CUSTOMERS, ORDERS, RUN (unique id prefix), SEED_PREFIX, THREADS, CONNS.
--
-- MIX=lifecycle (the default; the bench/REPORT.md flat-out figures): every command with an Idempotency-Key;
--   per 20 requests 2 register, 8 place (1-5 lines), 3 add-line, 2 remove-line, 2 cancel, 3 ship. The seeded
--   orders (placed and approved beforehand) are split in thirds: the first takes add-line/remove-line, the
--   second is cancelled, the third shipped (each once, in order; when a third is used up the request
--   becomes a place). Defaults: SEED_PREFIX l, ORDERS 3000.
-- MIX=edits (`scripts/bench commands` and `scripts/bench restart`): no Idempotency-Key; per 10 requests
--   2 register, 3 place (2 fixed lines), 2 rename, 1 change-email, 1 add-line (any seeded order),
--   1 change-credit-limit. Defaults: SEED_PREFIX b, ORDERS 5000.
-- done() prints "status CODE COUNT" lines and an "ops ..." line of the commands sent.
local mix = os.getenv("MIX") or "lifecycle"
local edits = mix == "edits"
if not edits and mix ~= "lifecycle" then error("MIX must be lifecycle or edits, not " .. mix) end
local customers = tonumber(os.getenv("CUSTOMERS") or "1000")
local orders = tonumber(os.getenv("ORDERS") or (edits and "5000" or "3000"))
local run = os.getenv("RUN") or "r"
local sp = os.getenv("SEED_PREFIX") or (edits and "b" or "l")
local nthreads = tonumber(os.getenv("THREADS") or "1")
local conns = tonumber(os.getenv("CONNS") or "256")
local third = math.floor(orders / 3)
local threads = {}
local counter, ncancel, nship = 0, 0, 0
local added, added_head, added_tail = {}, 1, 0
statuses = {}
ops = {}
local lifecycle_slots = { "register", "place", "add", "place", "ship", "remove", "place", "cancel", "add", "place",
                          "register", "place", "ship", "place", "add", "remove", "place", "cancel", "ship", "place" }
local edits_slots = { "place", "rename", "change-email", "add-line", "register", "place", "rename", "place",
                      "change-credit-limit", "register" }

setup = function(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

init = function(args)
   math.randomseed(os.time() * 1000 + (tid or 0))
end

local function post(op, path, body, tag)
   ops[op] = (ops[op] or 0) + 1
   if edits then
      return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
   end
   return wrk.format("POST", path, { ["Content-Type"] = "application/json", ["Idempotency-Key"] = "k-" .. tag }, body)
end

local function customer()
   return sp .. "c-" .. math.random(0, customers - 1)
end

local function lines(n)
   local t = {}
   for i = 1, n do
      t[i] = '{"sku":"S' .. i .. '-' .. math.random(1, 40) .. '","quantity":' .. math.random(1, 5) ..
             ',"unitPrice":' .. math.random(100, 20000) .. '}'
   end
   return "[" .. table.concat(t, ",") .. "]"
end

local function edit(op, n, tag)
   if op == "register" then
      return post(op, "/commands/customers/register", '{"customerId":"nc-' .. tag .. '","name":"Load Test ' .. n ..
         '","email":"lt' .. n .. '@example.com","creditLimit":1000000000000,"currency":"EUR"}', tag)
   elseif op == "place" then
      return post(op, "/commands/orders/place", '{"orderId":"no-' .. tag .. '","customerId":"' .. customer() ..
         '","currency":"EUR","lines":[{"sku":"SKU-1","quantity":2,"unitPrice":1250},{"sku":"SKU-2","quantity":1,"unitPrice":999}]}', tag)
   elseif op == "rename" then
      return post(op, "/commands/customers/" .. customer() .. "/rename", '{"name":"Renamed ' .. tag .. '"}', tag)
   elseif op == "change-email" then
      return post(op, "/commands/customers/" .. customer() .. "/change-email", '{"email":"m' .. n .. '@example.org"}', tag)
   elseif op == "add-line" then
      return post(op, "/commands/orders/" .. sp .. "o-" .. math.random(0, orders - 1) .. "/add-line",
         '{"sku":"X' .. tag .. '","quantity":1,"unitPrice":1}', tag)
   end
   return post(op, "/commands/customers/" .. customer() .. "/change-credit-limit",
      '{"creditLimit":' .. (2000000000000 + n) .. '}', tag)
end

request = function()
   counter = counter + 1
   local n = counter
   local tag = run .. "-" .. (tid or 0) .. "-" .. n
   if edits then
      return edit(edits_slots[(n - 1) % 10 + 1], n, tag)
   end
   local op = lifecycle_slots[(n - 1) % 20 + 1]
   if op == "cancel" then
      local i = (tid or 0) + ncancel * nthreads
      if i < third then
         ncancel = ncancel + 1
         return post("cancel", "/commands/orders/" .. sp .. "o-" .. (third + i) .. "/cancel", '{"reason":"load test"}', tag)
      end
      op = "place"
   elseif op == "ship" then
      local i = (tid or 0) + nship * nthreads
      if i < orders - 2 * third then
         nship = nship + 1
         return post("ship", "/commands/orders/" .. sp .. "o-" .. (2 * third + i) .. "/ship", '{}', tag)
      end
      op = "place"
   elseif op == "remove" then
      if added_tail - added_head >= 2 * conns then
         local e = added[added_head]; added[added_head] = nil; added_head = added_head + 1
         return post("remove-line", "/commands/orders/" .. e[1] .. "/remove-line", '{"sku":"' .. e[2] .. '"}', tag)
      end
      op = "add"
   end
   if op == "register" then
      return post("register", "/commands/customers/register", '{"customerId":"nc-' .. tag .. '","name":"Load ' .. n ..
         '","email":"l' .. n .. '@example.com","creditLimit":100000000000000,"currency":"EUR"}', tag)
   elseif op == "add" and third > 0 then
      local o = sp .. "o-" .. math.random(0, third - 1)
      local sku = "X" .. tag
      added_tail = added_tail + 1; added[added_tail] = { o, sku }
      return post("add-line", "/commands/orders/" .. o .. "/add-line", '{"sku":"' .. sku .. '","quantity":1,"unitPrice":1}', tag)
   end
   return post("place", "/commands/orders/place", '{"orderId":"no-' .. tag .. '","customerId":"' .. customer() ..
      '","currency":"EUR","lines":' .. lines(math.random(1, 5)) .. '}', tag)
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
