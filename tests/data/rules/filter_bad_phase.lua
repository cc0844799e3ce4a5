local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.on("meeting", { phase = { "held", "mised" } }, function(ev) end)
