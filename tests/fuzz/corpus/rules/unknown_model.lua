local tandem = require "tandem"

tandem.program {
  name = "core",
  model = "no_such_model",
}
