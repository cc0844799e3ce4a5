local tandem = require "tandem"
tandem.priorities { "inclusion", "development", "career", "retention" }
tandem.program { name = "core", model = "one_to_one" }
