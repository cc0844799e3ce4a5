-- external: mentors from outside the organization (tagged `external` in the HRIS export)
-- bring perspectives the inside cannot; high-potential mentees (tagged `high_potential`)
-- are matched first when external mentors are scarce, then the longest waiting.
--
-- Defaults: term = "6mo", cadence = "1mo", review_every = "3mo", match_every = "2w";
--   mentors: tagged external; mentees: everyone not external with a level;
--   score: 1 + 2 per skill the mentor has and the mentee wants.
local tandem = require "tandem"

local M = {}
M.description = "External mentors; high-potential mentees first"

-- Seconds of waiting that being a high potential is worth: more than anyone can wait.
local HIGH_POTENTIAL_FIRST = 10 ^ 12

M.defaults = {
  term = "6mo",
  cadence = "1mo",
  review_every = "3mo",
  match_every = "2w",
  objective = "coverage",
  mentor = function(p) return p.tags.external == true end,
  mentee = function(p) return not p.tags.external and p.level ~= nil end,
  score = function(mentor, mentee, explain)
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    if not explain then return 1 + 2 * skills end
    return 1 + 2 * skills, { skills = skills, high_potential = mentee.tags.high_potential and 1 or 0 }
  end,
  capacity = function(mentor) return mentor.capacity end,
  -- Large pools: each mentee is scored with at most 40 mentors, those sharing most of what
  -- they want first (in C, before any score call).
  prefilter = { prefer = { "skills", "wants" }, limit = 40 },
}

function M.validate(program)
  local t = program.term
  if t ~= "3mo" and t ~= "6mo" and t ~= "1y" then
    return 'term must be "3mo", "6mo" or "1y" for external mentoring (got "' .. t .. '")', "term"
  end
end

function M.match(program, pool)
  local now = tandem.now()
  return tandem.solve.assign(pool.mentors, pool.mentees, program.score, program.capacity, {
    objective = program.objective,
    priority = function(mentee)
      local waited = now - (mentee.waiting_since or now)
      return math.tointeger((mentee.tags.high_potential and HIGH_POTENTIAL_FIRST or 0) + waited)
    end,
  })
end

return M
