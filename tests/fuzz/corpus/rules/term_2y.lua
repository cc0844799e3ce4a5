local tandem = require "tandem"
tandem.program {
  name = "long",
  model = "one_to_one",
  term = "2y",
}
