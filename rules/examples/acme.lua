-- Acme's mentoring program: a traditional one-to-one program for everyone, with a
-- cross-department stretch for high potentials, quarterly stagnation checks and a note
-- whenever a pair decides to go on.
local tandem = require "tandem"

tandem.priorities { "development", "inclusion", "career" }

tandem.program {
  name = "core",
  model = "one_to_one",
  term = "6mo",
  cadence = "2w",
  review_every = "3mo",
  match_every = "1w",
  mentor = function(p) return (p.level or 0) >= 6 and not p.tags.high_potential end,
  mentee = function(p) return p.level ~= nil and p.level <= 5 and not p.tags.high_potential end,
  prompts = {
    "What will you try before we next meet?",
    "What got in your way since last time, and what helped?",
    "Which conversation are you avoiding, and why?",
    "What would you like to be known for in a year?",
  },
}

-- High potentials get senior mentors from another department, matched on quality.
tandem.program {
  name = "stretch",
  model = "one_to_one",
  term = "1y",
  cadence = "1mo",
  objective = "quality",
  mentor = function(p) return (p.level or 0) >= 9 end,
  mentee = function(p) return p.tags.high_potential == true end,
  score = function(mentor, mentee)
    if mentor.department == mentee.department then return nil end
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    return 1 + 2 * skills, { skills = skills, cross_department = 1 }
  end,
}

-- Quarterly: a pair that met fewer than twice in the quarter is flagged.
tandem.on("review", function(ev)
  if ev.meetings_held < 2 then
    tandem.flag(ev.match, "stagnant")
  end
  if ev.feedback_avg and ev.feedback_avg < 2.5 then
    tandem.flag(ev.match, "low_ratings")
  end
end)

-- A pair that missed six meetings without ever meeting is closed by the rules.
tandem.on("meeting", function(ev)
  if ev.phase ~= "missed" then return end
  local m = tandem.match(ev.match)
  if m and m.meetings_missed >= 6 and m.meetings_held == 0 then
    tandem.close(ev.match, "never met")
  end
end)

tandem.on("reup", function(ev)
  if ev.phase == "decided" and ev.outcome == "renew" then
    tandem.note("pair renewed", { match = ev.match })
  end
end)

tandem.simulation { attendance = 0.8, rating = 3.9, renew = 0.6, goal_progress = 0.5, spread = 0.6 }
