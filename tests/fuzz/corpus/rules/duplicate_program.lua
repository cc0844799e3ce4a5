local tandem = require "tandem"
tandem.program { name = "core", model = "one_to_one" }
tandem.program { name = "stretch", model = "one_to_one", term = "1y" }
tandem.program { name = "core", model = "one_to_one" }
