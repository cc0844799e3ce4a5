local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }

tandem.on("review", function(ev)
  tandem.flag(ev.match, "stagnant")
  tandem.note("checked", { match = ev.match, held = ev.meetings_held })
end)

tandem.on("goal", function(ev)
  tandem.flag(ev.match, "queued first")
  tandem.note("queued second")
  error("handler gave up")
end)

tandem.on("intro", function(ev)
  tandem.program { name = "late", model = "one_to_one" }
end)

tandem.on("meeting", function(ev)
  if ev.phase == "deep" then
    local t = {}
    local c = t
    for i = 1, 1000 do c.x = {} c = c.x end
    tandem.note("deep", t)
  elseif ev.phase == "cycle" then
    local t = { name = "loop" }
    t.self = t
    tandem.note("cycle", { t })
  end
end)

tandem.on("feedback", function(ev)
  local s = ("x"):rep(100)
  while true do hoard = { hoard, s .. ev.n } end
end)

tandem.on("close", function(ev)
  while true do pcall(function() while true do end end) end
end)

tandem.on("enroll", function(ev)
  pcall(tandem.flag, {}, "no target")
  pcall(tandem.note, "half", { f = function() end })
end)

tandem.on("person", function(ev)
  local t = {}
  for i = 1, ev.n do t["k" .. i] = i end
  tandem.note("wide", t)
end)
