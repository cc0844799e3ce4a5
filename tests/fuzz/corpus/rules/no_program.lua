local tandem = require "tandem"
tandem.priorities { "inclusion" }
tandem.on("review", function(ev) end)
