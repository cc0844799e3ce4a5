local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.on("feedback", { rating = "5" }, function(ev) end)
