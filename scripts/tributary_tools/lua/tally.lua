-- Loaded by the wrk scripts beside it (paths.lua, queries.lua, cold.lua): counts responses by
-- status in each thread; done() prints "status CODE COUNT" lines summed over the threads, the
-- lines wrk.py's parse_wrk reads.
local threads = {}
statuses = {}

setup = function(thread)
   table.insert(threads, thread)
end

function count_status(status)
   statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses") or {}) do total[k] = (total[k] or 0) + v end
   end
   for k, v in pairs(total) do io.write("status " .. k .. " " .. v .. "\n") end
end
