-- line 3 declares a program with a field no one knows
local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one", colour = "blue" }
