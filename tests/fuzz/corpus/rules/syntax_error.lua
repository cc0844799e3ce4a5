local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.on("review", function(ev)
  if ev.meetings_held < 2 then
    local level = = ev.meetings_held
  end
end)
