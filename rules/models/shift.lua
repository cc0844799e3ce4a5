-- shift: another name for the reverse model (the mentor is junior to the mentee).
return require "models.reverse"
