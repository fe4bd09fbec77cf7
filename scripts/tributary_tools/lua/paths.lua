-- wrk script: GET a random path from the file $PATHS (one per line); done() prints "status CODE COUNT".
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "tally.lua")
init = function(args) math.randomseed(os.time()) end
request = function() return wrk.format("GET", paths[math.random(1, #paths)]) end
response = function(status, headers, body) count_status(status) end
