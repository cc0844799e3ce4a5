-- peer: mutual pairs of people at a similar level who teach each other. There is no mentor
-- and no mentee side: one pool (everyone the program's `mentee` function accepts, enrolled
-- with the role `peer`), paired by a maximum-weight matching. In the log a peer match has
-- `mentors` empty and both peers in `mentees`.
--
-- Defaults (a program may override any of them):
--   term = "6mo", cadence = "2w", review_every = "3mo", match_every = "1w",
--   objective = "coverage", level_gap = 1 (the most two peers' levels may differ, 0 to 14)
--   mentee (who is in the pool): everyone with a level
--   score: 1, + 2 per skill one has that the other wants (both directions),
--          + 1 when they work in different departments
--   capacity: 1 (unused: everyone is in at most one live pair)
-- Whatever the program's score says, a pair is only made when both have a level and the
-- levels differ by at most level_gap. The match's `why` gives the skills exchanged, the
-- department crossing and the level difference.
-- Lifecycle: when a pair starts, a goal is set on what they will trade.
local tandem = require "tandem"

local M = {}
M.description = "Mutual peer pairs of similar level, no mentor or mentee side"

M.roles = { mentee = "peer" }
M.fields = { level_gap = true }

-- Skills a has that b wants, sorted.
function M.teaches(a, b)
  local out = {}
  for s in pairs(b.wants) do
    if a.skills[s] then out[#out + 1] = s end
  end
  table.sort(out)
  return out
end

M.defaults = {
  term = "6mo",
  cadence = "2w",
  review_every = "3mo",
  match_every = "1w",
  objective = "coverage",
  level_gap = 1,
  mentee = function(p) return p.level ~= nil end,
  score = function(a, b, explain)
    local skills = tandem.overlap(a.skills, b.wants) + tandem.overlap(b.skills, a.wants)
    local cross = (a.department ~= b.department) and 1 or 0
    if not explain then return 1 + 2 * skills + cross end
    return 1 + 2 * skills + cross,
           { skills = skills, cross_department = cross,
             level_difference = math.abs((a.level or 0) - (b.level or 0)) }
  end,
  capacity = 1,
  -- Large pools: each peer is scored with at most 40 others, those with most of what the
  -- other wants first (in C, before any score call).
  prefilter = { prefer = { "skills", "wants" }, limit = 40 },
}

function M.validate(program)
  local gap = program.level_gap
  if math.type(gap) ~= "integer" or gap < 0 or gap > 14 then
    return "level_gap must be a whole number from 0 to 14 (got " .. tostring(gap) .. ")", "level_gap"
  end
end

function M.match(program, pool)
  local gap = program.level_gap
  -- Similar level holds whatever the program's own score allows.
  local score = function(a, b, explain)
    if a.level == nil or b.level == nil or math.abs(a.level - b.level) > gap then return nil end
    return program.score(a, b, explain)
  end
  return tandem.solve.pairs(pool.people, score, { objective = program.objective })
end

M.on = {}

-- One goal for the pair: what each teaches the other (or what they agree to explore).
function M.on.match(ev, program)
  if ev.phase ~= "active" and ev.phase ~= "approved" then return end
  local m = tandem.match(ev.match)
  local a, b = tandem.person(m.mentees[1]), tandem.person(m.mentees[2])
  if not a or not b then return end
  local ab, ba = M.teaches(a, b), M.teaches(b, a)
  local parts = {}
  if ab[1] then parts[#parts + 1] = a.id .. " teaches " .. b.id .. " " .. ab[1] end
  if ba[1] then parts[#parts + 1] = b.id .. " teaches " .. a.id .. " " .. ba[1] end
  local text = parts[1] and ("Trade skills: " .. table.concat(parts, "; "))
               or "Agree on one skill each of you will teach the other"
  tandem.goal(ev.match, text, { due = program.review_every, measure = "each shows the other's skill in real work" })
end

return M
