local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.program { name = "short", model = "one_to_one", cadence = "6 months" }
