-- group: one mentor and a small circle of mentees from different departments, so the
-- mentees learn from each other's corners of the organization as much as from the mentor.
-- A mentor leads one group at a time in a program (whatever their `capacity` column says);
-- the group has the mentor's time for a term of six months to a year, with a re-up at the end.
--
-- Defaults (a program may override any of them):
--   term = "6mo" (from "6mo" to "1y"), cadence = "2w", review_every = "3mo", match_every = "1w",
--   objective = "coverage", group_size = 4 (at most this many mentees in a group, 2 to 50)
--   mentor: level 6 and up; mentee: level 5 and below
--   score: 1, + 2 per skill the mentor has and the mentee wants, + 1 when the mentee is in
--          another department than the mentor
--   capacity: 1 (a group model ignores it: a mentor leads one group)
-- Matching: tandem.solve.groups with distinct "department": no two mentees of one group
-- share a department (a mentee without one fits any group). The match's `why` maps each
-- mentee's id to the reasons of their score.
-- Lifecycle: when a group starts, one goal is set for the circle.
local tandem = require "tandem"

local M = {}
M.description = "One mentor, a group of up to group_size mentees from different departments"

M.fields = { group_size = true }

M.defaults = {
  term = "6mo",
  cadence = "2w",
  review_every = "3mo",
  match_every = "1w",
  objective = "coverage",
  group_size = 4,
  mentor = function(p) return (p.level or 0) >= 6 end,
  mentee = function(p) return p.level ~= nil and p.level <= 5 end,
  score = function(mentor, mentee, explain)
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    local cross = (mentor.department ~= mentee.department) and 1 or 0
    if not explain then return 1 + 2 * skills + cross end
    return 1 + 2 * skills + cross, { skills = skills, cross_department = cross }
  end,
  capacity = 1,
  -- Large pools: each mentee is scored with at most 20 mentors, those sharing most of what
  -- they want first (in C, before any score call; fewer edges keep the group solver fast).
  prefilter = { prefer = { "skills", "wants" }, limit = 20 },
}

local function months(term)
  local n, unit = tostring(term):match("^(%d+)(%a+)$")
  n = tonumber(n)
  return (unit == "mo" and n) or (unit == "y" and n and n * 12) or nil
end

function M.validate(program)
  local m = months(program.term)
  if not m or m < 6 or m > 12 then
    return 'term must be from "6mo" to "1y" for group mentoring (got "' .. tostring(program.term) .. '")', "term"
  end
  local size = program.group_size
  if math.type(size) ~= "integer" or size < 2 or size > 50 then
    return "group_size must be a whole number from 2 to 50 (got " .. tostring(size) .. ")", "group_size"
  end
end

function M.match(program, pool)
  -- groups: one per mentor; the solver subtracts the groups a mentor leads already (load).
  return tandem.solve.groups(pool.mentors, pool.mentees, program.score, program.group_size, "department",
                             { objective = program.objective })
end

M.on = {}

-- One goal for the circle: each member brings one practice from their department.
function M.on.match(ev, program)
  if ev.phase ~= "active" and ev.phase ~= "approved" then return end
  tandem.goal(ev.match, "Each member shares one practice from their department that another member tries",
              { due = program.review_every, measure = "tried and discussed in a group meeting" })
end

return M
