local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.on("match", { mentors = "p1" }, function(ev) end)
