local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
local _, t = pairs(tandem)
t.flag = function() end
