-- micro: short relationships focused on one skill. The mentee learns one skill they want
-- from a mentor who has it; neither is on the hook for more. No re-up by default: the
-- match completes at the end of its term and the mentee may be matched on another skill.
--
-- Defaults: term = "6w", cadence = "1w", review_every = "3w", match_every = "1w",
--   reup = false, objective = "coverage"; anyone with a level may mentor or be mentored;
--   score: 0 when the mentor has none of the skills the mentee wants (never matched),
--   else 1 + the mentor's level advantage (up to 3) + 1 across departments.
-- The match's `why` names the one `skill`; a goal is set on it at the start.
local tandem = require "tandem"

local M = {}
M.description = "Short-term mentoring on one skill the mentee wants and the mentor has"

-- The skill a pair would work on: the first, alphabetically, that the mentee wants and
-- the mentor has. (A plain minimum: no list to build and sort, since a large pool scores
-- this pair by pair.)
function M.skill(mentor, mentee)
  local first
  local has = mentor.skills
  for s in pairs(mentee.wants) do
    if has[s] and (first == nil or s < first) then first = s end
  end
  return first
end

M.defaults = {
  term = "6w",
  cadence = "1w",
  review_every = "3w",
  match_every = "1w",
  reup = false,
  objective = "coverage",
  mentor = function(p) return p.level ~= nil end,
  mentee = function(p) return p.level ~= nil and next(p.wants) ~= nil end,
  score = function(mentor, mentee, explain)
    -- Which skill is shared only matters for the reasons; the number needs just one.
    -- (Large pools call this per pair: no sort, no string order, no library call.)
    local skill
    if explain then
      skill = M.skill(mentor, mentee)
    else
      local has = mentor.skills
      for s in pairs(mentee.wants) do
        if has[s] then skill = s break end
      end
    end
    if not skill then return nil end
    local gap = (mentor.level or 0) - (mentee.level or 0)
    local cross = mentor.department ~= mentee.department and 1 or 0
    local advantage = gap > 3 and 3 or gap   -- the advantage, from 0 to 3
    if advantage < 0 then advantage = 0 end
    if not explain then return 1 + advantage + cross end
    return 1 + advantage + cross, { skill = skill, level_gap = gap, cross_department = cross }
  end,
  capacity = function(mentor) return mentor.capacity end,
  -- Large pools: only mentors with a skill the mentee wants, at most 40 of them, those
  -- sharing most first (in C, before any score call).
  prefilter = { shared = { "skills", "wants" }, limit = 40 },
}

function M.match(program, pool)
  return tandem.solve.assign(pool.mentors, pool.mentees, program.score, program.capacity,
                             { objective = program.objective })
end

M.on = {}

function M.on.match(ev, program)
  if ev.phase ~= "active" and ev.phase ~= "approved" then return end
  local m = tandem.match(ev.match)
  local skill = M.skill(tandem.person(m.mentors[1]), tandem.person(m.mentees[1]))
  if skill then
    tandem.goal(ev.match, "Learn " .. skill .. " well enough to use it unaided",
                { due = program.term, measure = "used in a real task, shown to the mentor" })
  end
end

return M
