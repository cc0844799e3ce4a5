-- diversity: pairs people who differ — in department and in their questionnaire answers
-- (the HRIS export's q_* columns) — so that mentoring crosses the lines people rarely
-- cross on their own. It never assumes what was not answered: a question counts only
-- when both people answered it.
--
-- Defaults: term = "6mo", cadence = "2w", review_every = "3mo", match_every = "1w";
--   mentors level >= 6, mentees level <= 5 (as one_to_one);
--   score: 2 for a different department, + 1 per q_* question both answered differently,
--   + 1 per skill the mentor has and the mentee wants.
-- The match's `why` says how many questions were compared and how many differed.
local tandem = require "tandem"

local M = {}
M.description = "Pairs across departments and backgrounds, from questionnaire answers"

-- Whether an attribute's name is a question (q_*), remembered per name: there are a few
-- names, and a large pool asks this of every attribute in every score call.
local question = setmetatable({}, { __index = function(t, k)
  local q = k:sub(1, 2) == "q_"
  t[k] = q
  return q
end })

-- Questions both answered, and how many of them differ.
function M.difference(a, b)
  local compared, differ = 0, 0
  for k, va in pairs(a.attrs) do
    if question[k] and va ~= "" then
      local vb = b.attrs[k]
      if vb ~= nil and vb ~= "" then
        compared = compared + 1
        if va ~= vb then differ = differ + 1 end
      end
    end
  end
  return compared, differ
end

M.defaults = {
  term = "6mo",
  cadence = "2w",
  review_every = "3mo",
  match_every = "1w",
  objective = "quality",
  mentor = function(p) return (p.level or 0) >= 6 end,
  mentee = function(p) return p.level ~= nil and p.level <= 5 end,
  score = function(mentor, mentee, explain)
    local compared, differ = M.difference(mentor, mentee)
    local cross = (mentor.department and mentee.department and mentor.department ~= mentee.department) and 2 or 0
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    if not explain then return cross + differ + skills end
    return cross + differ + skills,
           { cross_department = cross > 0 and 1 or 0, questions_compared = compared,
             questions_different = differ, skills = skills }
  end,
  capacity = function(mentor) return mentor.capacity end,
  -- Large pools: each mentee is scored with at most 40 mentors (spread evenly, in C, before
  -- any score call).
  prefilter = { limit = 40 },
}

function M.match(program, pool)
  return tandem.solve.assign(pool.mentors, pool.mentees, program.score, program.capacity,
                             { objective = program.objective })
end

return M
