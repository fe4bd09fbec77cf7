-- wrk script: GET a random path from the file $PATHS (one per line); done() prints "status CODE COUNT".
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local threads = {}
statuses = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) math.randomseed(os.time()) end
request = function() return wrk.format("GET", paths[math.random(1, #paths)]) end
response = function(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
done = function()
   local total = {}
   for _, t in ipairs(threads) do
      for k, v in pairs(t:get("statuses") or {}) do total[k] = (total[k] or 0) + v end
   end
   for k, v in pairs(total) do io.write("status " .. k .. " " .. v .. "\n") end
end
