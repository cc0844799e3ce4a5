-- Globex: a 300-person engineering-heavy company blending six models around community,
-- inclusion and development.
--   mentoring  one_to_one   the long pair, and where flash follow-ups land
--   speed      flash        new joiners meet three mentors in three weeks...
--   after      one_to_one   ...then continue with the one they got most from
--   tour       rotational   new managers spend a month each with ambassadors across the company
--   bridges    network      mentors who open their network to the mentee after two meetings
--   peers      peer         levels 3-7 trade skills in mutual pairs
--   crossings  diversity    pairs across backgrounds from the questionnaire
local tandem = require "tandem"

tandem.priorities { "community", "inclusion", "development" }

local function insider(p) return p.level ~= nil and not p.tags.external end
local function new_joiner(p) return insider(p) and (p.tenure_years or 99) < 2 and p.level <= 5 end

tandem.program {
  name = "mentoring",
  model = "one_to_one",
  term = "1y",
  cadence = "1mo",
  mentor = function(p) return insider(p) and p.level >= 7 end,
  mentee = function(p) return insider(p) and p.level <= 5 and not new_joiner(p) end,
  prompts = { "What did you learn since we last met?", "Where do you want to be in a year?" },
}

tandem.program {
  name = "speed",
  model = "flash",
  rounds = 3,
  followup = "after",
  mentor = function(p) return insider(p) and p.level >= 7 end,
  mentee = new_joiner,
}

-- Only flash alumni, only with a mentor they met in the speed rounds: flash proposes the pair
-- when a joiner's last round ends.
tandem.program {
  name = "after",
  model = "one_to_one",
  term = "6mo",
  cadence = "2w",
  mentor = function(p) return insider(p) and p.level >= 7 end,
  mentee = new_joiner,
  score = function(mentor, mentee)
    -- the cheap test first: most pairs never met in the speed rounds
    if not tandem.met(mentor, mentee, "speed") then return nil end
    if #tandem.matches { program = "speed", person = mentee.id, state = "closed" } < 3 then return nil end
    return 1 + tandem.overlap(mentor.skills, mentee.wants)
  end,
}

tandem.program {
  name = "tour",
  model = "rotational",
  rotations = 6,
  mentee = function(p) return insider(p) and p.level >= 6 and p.level <= 8 and not p.tags.ambassador end,
}

tandem.program {
  name = "bridges",
  model = "network",
  intro_after = 2,
  intros = 2,
  cadence = "2w",
  mentor = function(p) return insider(p) and p.level >= 8 end,
  mentee = function(p) return insider(p) and p.level >= 4 and p.level <= 6 end,
}

tandem.program {
  name = "peers",
  model = "peer",
  level_gap = 1,
  mentee = function(p) return insider(p) and p.level >= 3 and p.level <= 7 end,
  prefilter = { shared = { "skills", "wants" }, limit = 40 },
}

tandem.program {
  name = "crossings",
  model = "diversity",
  mentor = function(p) return insider(p) and p.level >= 6 end,
  mentee = function(p) return insider(p) and p.level <= 4 end,
}

-- Every quarter, a pair in a long program that met less than twice is flagged.
tandem.on("review", { program = { "mentoring", "bridges" } }, function(ev)
  if ev.meetings_held < 2 then
    tandem.flag(ev.match, "stagnant")
  end
end)

tandem.on("intro", function(ev)
  tandem.note("introduction made", { match = ev.match, contact = ev.contact })
end)

tandem.simulation { attendance = 0.85, rating = 4.1, renew = 0.55, goal_progress = 0.55, spread = 0.5 }
