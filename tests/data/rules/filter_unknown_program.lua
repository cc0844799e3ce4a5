local tandem = require "tandem"
tandem.on("review", { program = "cor" }, function(ev) end)
tandem.program { name = "core", model = "one_to_one" }
