-- reverse (also `exchange`, `shift`): the mentor is junior to the mentee. Newer people
-- teach what they know best — new tools, new customers, how the front line sees things —
-- and senior people learn it, while the junior side gains exposure.
--
-- Defaults: term = "6mo", cadence = "2w", review_every = "3mo", match_every = "1w";
--   anyone with a level may take either side; a pair is only allowed when the mentor's
--   level is below the mentee's; score: 2 per skill the mentor has and the mentee wants,
--   + 1 across departments, + 1 for a level gap of 3 or more.
local tandem = require "tandem"

local M = {}
M.description = "Reverse mentoring: the mentor is junior to the mentee"

M.defaults = {
  term = "6mo",
  cadence = "2w",
  review_every = "3mo",
  match_every = "1w",
  objective = "coverage",
  mentor = function(p) return p.level ~= nil and p.level <= 6 end,
  mentee = function(p) return p.level ~= nil and p.level >= 5 end,
  score = function(mentor, mentee, explain)
    if not (mentor.level and mentee.level and mentor.level < mentee.level) then return nil end
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    local cross = mentor.department ~= mentee.department and 1 or 0
    local wide = (mentee.level - mentor.level) >= 3 and 1 or 0
    if not explain then return 2 * skills + cross + wide end
    return 2 * skills + cross + wide,
           { skills = skills, cross_department = cross, level_gap = mentor.level - mentee.level }
  end,
  capacity = function(mentor) return 1 end,
  -- Large pools: each mentee is scored with at most 40 mentors, those sharing most of what
  -- they want first (in C, before any score call).
  prefilter = { prefer = { "skills", "wants" }, limit = 40 },
}

function M.match(program, pool)
  -- Whatever the program's score says, a reverse pair has the junior person mentoring.
  local score = function(mentor, mentee, explain)
    if not (mentor.level and mentee.level and mentor.level < mentee.level) then return nil end
    return program.score(mentor, mentee, explain)
  end
  return tandem.solve.assign(pool.mentors, pool.mentees, score, program.capacity,
                             { objective = program.objective })
end

return M
