local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.program { name = "other", model = "micro" }
tandem.on("meeting", { phase = "missed" }, function(ev) tandem.note("missed", { match = ev.match }) end)
tandem.on("meeting", { phase = { "held", "cancelled" }, match = 7 }, function(ev) tandem.note("held or cancelled at 7") end)
tandem.on("flag", { signal = true }, function(ev) tandem.note("signal " .. ev.reason) end)
tandem.on("meeting", function(ev) tandem.note("any meeting") end)
tandem.on("review", { program = "core", model = "one_to_one" }, function(ev) tandem.note("core review") end)
tandem.on("review", { program = "other" }, function(ev) tandem.note("other review") end)
