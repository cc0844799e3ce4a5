-- Acme: a 240-person company blending six mentoring models around three priorities.
--   core       one_to_one     the traditional pair for everyone below level 6
--   stretch    external       partner mentors for high potentials
--   skills     micro          six-week sprints on one skill, across the company
--   circles    group          senior mentors with circles from different departments
--   firesides  senior_leader  twice-yearly firesides with the senior leaders
--   flip       reverse        juniors teach AI tools and social media to senior people
-- Quarterly reviews flag stagnating pairs; a pair that never meets is closed.
local tandem = require "tandem"

tandem.priorities { "development", "inclusion", "career" }

local function high_potential(p) return p.tags.high_potential == true end
local function insider(p) return p.level ~= nil and not p.tags.external end

tandem.program {
  name = "core",
  model = "one_to_one",
  term = "6mo",
  cadence = "2w",
  review_every = "3mo",
  match_every = "1w",
  mentor = function(p) return insider(p) and p.level >= 6 and not high_potential(p) end,
  mentee = function(p) return insider(p) and p.level <= 5 and not high_potential(p) end,
  prompts = {
    "What will you try before we next meet?",
    "What got in your way since last time, and what helped?",
    "Which conversation are you avoiding, and why?",
    "What would you like to be known for in a year?",
  },
}

tandem.program {
  name = "stretch",
  model = "external",
  term = "6mo",
  cadence = "1mo",
  mentee = high_potential,
}

tandem.program {
  name = "skills",
  model = "micro",
  mentor = function(p) return insider(p) and p.level >= 4 end,
  mentee = function(p) return insider(p) and p.level <= 8 end,
  -- Only pairs where the mentor has a skill the mentee wants are scored at all.
  prefilter = { shared = { "skills", "wants" }, level_gap = { min = 1, max = 8 }, limit = 40 },
  candidates = 20,
}

tandem.program {
  name = "circles",
  model = "group",
  group_size = 4,
  term = "6mo",
  cadence = "1mo",
  mentor = function(p) return insider(p) and p.level >= 9 end,
  mentee = function(p) return insider(p) and p.level >= 3 and p.level <= 6 end,
}

tandem.program {
  name = "firesides",
  model = "senior_leader",
  format = "fireside",
  session_size = 12,
  sessions_per_year = 2,
  mentee = function(p) return insider(p) and not p.tags.senior_leader end,
}

tandem.program {
  name = "flip",
  model = "reverse",
  mentor = function(p) return insider(p) and p.level <= 3 end,
  mentee = function(p) return insider(p) and p.level >= 9 end,
  score = function(mentor, mentee)
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    if skills == 0 then return nil end
    return 2 * skills + (mentor.department ~= mentee.department and 1 or 0), { skills = skills }
  end,
}

-- Quarterly: a pair of a one-to-one or external program that met fewer than twice in the
-- quarter is flagged. (A filter on model or program matches the program of the event's match.)
tandem.on("review", { model = { "one_to_one", "external" } }, function(ev)
  if ev.meetings_held < 2 then
    tandem.flag(ev.match, "stagnant")
  end
  if ev.feedback_avg and ev.feedback_avg < 2.5 then
    tandem.flag(ev.match, "low_ratings")
  end
end)

-- A pair that missed six meetings without ever meeting is closed by the rules. (The filter
-- keeps the handler from running at all for the other meetings' events.)
tandem.on("meeting", { phase = "missed" }, function(ev)
  local m = tandem.match(ev.match)
  if m and m.meetings_missed >= 6 and m.meetings_held == 0 then
    tandem.close(ev.match, "never met")
  end
end)

tandem.on("reup", { phase = "decided", outcome = "renew" }, function(ev)
  tandem.note("pair renewed", { match = ev.match })
end)

tandem.simulation { attendance = 0.8, rating = 3.9, renew = 0.6, goal_progress = 0.5, spread = 0.6 }
