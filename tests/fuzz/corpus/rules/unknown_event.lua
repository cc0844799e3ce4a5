local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.on("review", function(ev) end)
tandem.on("birthday", function(ev) end)
