local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.on("meeting", { phase = { held = true } }, function(ev) end)
