-- one_to_one: the traditional pair. One mentor, one mentee, a term of six months to a
-- year, a meeting every cadence, a quarterly review, and a formal re-up moment at the end
-- of each term where either side may leave without fault.
--
-- Defaults (a program may override any of them):
--   term = "6mo", cadence = "2w", review_every = "3mo", match_every = "1w",
--   objective = "coverage"
--   mentor: level 6 and up; mentee: level 5 and below
--   score: skills the mentor has that the mentee wants (2 each), a different
--          department (1), and a level gap of 2 to 5 (1)
--   capacity: the person's `capacity` column
-- Lifecycle: when a match starts, a goal is set from what the mentee wants to learn
-- (or their development plan), due at the first review.
local tandem = require "tandem"

local M = {}

M.description = "Traditional mentor-mentee pair with a formal re-up at the end of each term"

M.defaults = {
  term = "6mo",
  cadence = "2w",
  review_every = "3mo",
  match_every = "1w",
  objective = "coverage",
  mentor = function(p) return (p.level or 0) >= 6 end,
  mentee = function(p) return p.level ~= nil and p.level <= 5 end,
  score = function(mentor, mentee, explain)
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    local cross = (mentor.department ~= mentee.department) and 1 or 0
    local gap = (mentor.level or 0) - (mentee.level or 0)
    local stretch = (gap >= 2 and gap <= 5) and 1 or 0
    if not explain then return 2 * skills + cross + stretch end
    return 2 * skills + cross + stretch,
           { skills = skills, cross_department = cross, level_gap = gap }
  end,
  capacity = function(mentor) return mentor.capacity end,
  -- Large pools: each mentee is scored with at most 40 mentors, those sharing most of what
  -- they want first (in C, before any score call).
  prefilter = { prefer = { "skills", "wants" }, limit = 40 },
}

-- one_to_one keeps the relationship long enough to build trust, short enough to re-up.
function M.validate(program)
  local t = program.term
  local n, unit = t:match("^(%d+)(%a+)$")
  n = tonumber(n)
  local months = (unit == "mo" and n) or (unit == "y" and n * 12) or nil
  if not months or months < 6 or months > 12 then
    return 'term must be from "6mo" to "1y" for one_to_one (got "' .. t .. '")', "term"
  end
end

function M.match(program, pool)
  return tandem.solve.assign(pool.mentors, pool.mentees, program.score, program.capacity,
                             { objective = program.objective })
end

M.on = {}

-- Set one measurable goal at the start, from what the mentee wants to learn.
function M.on.match(ev, program)
  -- A match starts when it is made active, or approved when the program asks for approval.
  if ev.phase ~= "active" and ev.phase ~= "approved" then return end
  local m = tandem.match(ev.match)
  local mentee = tandem.person(m.mentees[1])
  if not mentee then return end
  local wants = {}
  for skill in pairs(mentee.wants) do wants[#wants + 1] = skill end
  table.sort(wants)
  local mentor = tandem.person(m.mentors[1])
  local focus
  for _, skill in ipairs(wants) do
    if mentor and mentor.skills[skill] then focus = skill break end
  end
  focus = focus or wants[1]
  local text
  if focus then
    text = "Apply " .. focus .. " in a real piece of work"
  elseif mentee.plan then
    text = "Take the next step of the development plan: " .. mentee.plan
  else
    text = "Agree on one skill to grow and show it in a piece of work"
  end
  tandem.goal(ev.match, text, { due = program.review_every, measure = "shown to the mentor and reviewed" })
end

return M
