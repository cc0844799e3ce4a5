-- flash: speed mentoring. Each mentee meets `rounds` different mentors, one per round, each
-- round a short match of `round_length` with one meeting and no re-up; a pair never meets
-- twice in the program. Matching runs once a round (match_every = round_length): the round's
-- matches all end at the next tick, which pairs everyone again with a mentor not met yet. A
-- mentee who has had `rounds` rounds is not matched again.
--
-- Defaults (a program may override any of them):
--   rounds = 3, round_length = "1w", followup = nil,
--   term = "1w" and match_every = "1w" (both must equal round_length),
--   cadence = "4d" (one meeting in the round: more than half of round_length, at most all of it),
--   review_every = "1w" (a review, with feedback, at the end of each round),
--   reup = false (a round's end completes its match), objective = "coverage";
--   approve must stay false (a round waiting for approval would end after the next round began)
--   mentor: level 6 and up; mentee: level 5 and below
--   score: nil/false = the pair never meets; default 1 + 2 per skill the mentor has and the
--          mentee wants + 1 across departments; `why.round` is the round's number for the mentee
--   capacity: mentees a mentor meets in one round (the person's `capacity` column)
-- Changing round_length means giving term, match_every and cadence to match: the load error
-- says which values fit.
--
-- flash.followup: a program may name a longer-term program, `followup = "core"` (say a
-- one_to_one program). When a mentee's last round ends, the model asks on their behalf for a
-- longer match with the flash mentor they got most from: the most meetings held, then the best
-- score, then the latest round; only a mentor enrolled on the mentor side of the follow-up
-- program (and the mentee on its mentee side) qualifies. The ask is recorded as a note
--   "flash.followup" { mentee = id, mentor = id, program = followup, flash_program = name,
--                      match = the flash match id, round = its round for the mentee }
-- and proposed at once with tandem.propose in the follow-up program (where the usual checks
-- hold, and approval when that program asks for it), unless the mentee already has a live
-- match there.
local tandem = require "tandem"

local M = {}
M.description = "Speed rounds: each mentee meets several mentors briefly, never the same one twice"

M.fields = { rounds = true, round_length = true, followup = true }

local DAY = 86400
local UNIT = { m = 60, h = 3600, d = DAY, w = 7 * DAY }

-- The shortest and longest a duration can last, in seconds (months: 28 to 31 days).
local function span(text)
  if type(text) ~= "string" then return nil end
  local n, unit = text:match("^([1-9]%d*)(%a+)$")
  n = tonumber(n)
  if not n then return nil end
  if UNIT[unit] then return n * UNIT[unit], n * UNIT[unit] end
  if unit == "mo" then return n * 28 * DAY, n * 31 * DAY end
  if unit == "y" then return n * 365 * DAY, n * 366 * DAY end
  return nil
end

local function months(t)
  local n, unit = t:match("^(%d+)(%a+)$")
  return (unit == "mo" and tonumber(n)) or (unit == "y" and 12 * tonumber(n)) or nil
end

-- Two durations that always last the same ("1w" and "7d", "1y" and "12mo").
local function same(a, b)
  local alo, ahi = span(a)
  local blo, bhi = span(b)
  if not alo or not blo then return false end
  if months(a) or months(b) then return months(a) == months(b) end
  return alo == blo and ahi == bhi
end

local function whole(v, lo, hi)
  return math.type(v) == "integer" and v >= lo and v <= hi
end

M.defaults = {
  rounds = 3,
  round_length = "1w",
  term = "1w",
  match_every = "1w",
  cadence = "4d",
  review_every = "1w",
  reup = false,
  objective = "coverage",
  mentor = function(p) return (p.level or 0) >= 6 end,
  mentee = function(p) return p.level ~= nil and p.level <= 5 end,
  score = function(mentor, mentee, explain)
    local skills = tandem.overlap(mentor.skills, mentee.wants)
    local cross = mentor.department ~= mentee.department and 1 or 0
    if not explain then return 1 + 2 * skills + cross end
    return 1 + 2 * skills + cross, { skills = skills, cross_department = cross }
  end,
  capacity = function(mentor) return mentor.capacity end,
  -- Large pools: each mentee is scored with at most 40 mentors, those sharing most of what
  -- they want first (in C, before any score call).
  prefilter = { prefer = { "skills", "wants" }, limit = 40 },
}

function M.validate(program)
  if not whole(program.rounds, 1, 100) then
    return "rounds must be a whole number from 1 to 100 (got " .. tostring(program.rounds) .. ")", "rounds"
  end
  local len = program.round_length
  local lo, hi = span(len)
  if not lo then
    return 'round_length must be a duration like "1w" or "45m" (got ' .. tostring(len) .. ")", "round_length"
  end
  if program.followup ~= nil and (type(program.followup) ~= "string" or program.followup == "") then
    return "followup must name a program (got " .. tostring(program.followup) .. ")", "followup"
  end
  if program.followup == program.name then
    return "followup must name another program, not the flash program itself", "followup"
  end
  if not same(program.term, len) then
    return 'term must equal round_length ("' .. len .. '"): one round is one match (got "'
           .. program.term .. '")', "term"
  end
  if not same(program.match_every, len) then
    return 'match_every must equal round_length ("' .. len .. '"): rounds start together (got "'
           .. program.match_every .. '")', "match_every"
  end
  if program.reup ~= false then
    return "reup must be false for flash: a round ends, it is not renewed", "reup"
  end
  if program.rotate then
    return "rotate must be false for flash: a round's end completes its match", "rotate"
  end
  if program.approve then
    return "approve must be false for flash: a round that waits for approval would miss the next round's start",
           "approve"
  end
  -- One meeting: the first at +cadence falls in the round, the second after it.
  local c = span(program.cadence)
  if c > lo or 2 * c <= hi then
    local from, to = hi // 2 + 1, lo
    local hint
    if -(-from // DAY) <= to // DAY then
      hint = "from " .. -(-from // DAY) .. "d to " .. to // DAY .. "d"
    elseif -(-from // 3600) <= to // 3600 then
      hint = "from " .. -(-from // 3600) .. "h to " .. to // 3600 .. "h"
    else
      hint = "from " .. -(-from // 60) .. "m to " .. to // 60 .. "m"
    end
    return 'cadence "' .. program.cadence .. '" does not give one meeting in a round of ' .. len
           .. "; give a cadence " .. hint, "cadence"
  end
end

-- Each mentee's flash matches in the program (any not rejected), in the order they had them.
-- Each listed mentee's rounds so far (their matches as a mentee in the program), read from
-- their own matches: a tick costs the pool, not the program's history.
function M.history(program, mentees)
  local seen = {}
  for _, e in ipairs(mentees) do
    local rounds = {}
    for _, m in ipairs(tandem.matches { program = program.name, person = e.id }) do
      if m.state ~= "rejected" and m.mentees[1] == e.id then rounds[#rounds + 1] = m end
    end
    seen[e.id] = rounds
  end
  return seen
end

local function is_pair(score)
  return score ~= nil and score ~= false
end

function M.match(program, pool)
  local history = M.history(program, pool.mentees)
  local done = function(e) return #(history[e.id] or {}) end
  -- Mentees with rounds to go, those with the fewest rounds first (then the longest waiting).
  local mentees = {}
  for i, e in ipairs(pool.mentees) do
    if done(e) < program.rounds then mentees[#mentees + 1] = { e = e, i = i } end
  end
  table.sort(mentees, function(a, b)
    if done(a.e) ~= done(b.e) then return done(a.e) < done(b.e) end
    return a.i < b.i
  end)
  for k, x in ipairs(mentees) do mentees[k] = x.e end
  local capacity = program.capacity
  local round = tandem.solve.rounds(pool.mentors, mentees, 1, {
    allowed = function(mentor, mentee) return is_pair(program.score(mentor, mentee)) end,
    per_round = function(mentor)
      local c = math.tointeger(type(capacity) == "function" and capacity(mentor) or capacity)
      if not c then error("capacity must be a whole number", 0) end
      return math.max(0, c - (mentor.load or 0))
    end,
  })[1]
  local groups = {}
  for _, pair in ipairs(round) do
    local score, why = program.score(pair.mentor, pair.mentee, true)
    why = type(why) == "table" and why or {}
    why.round = done(pair.mentee) + 1
    groups[#groups + 1] = { mentors = { pair.mentor }, mentees = { pair.mentee }, score = score, why = why }
  end
  return groups
end

M.on = {}

-- After a mentee's last round: ask for a longer match with the best of their flash mentors.
function M.on.close(ev, program)
  if not program.followup then return end
  local m = tandem.match(ev.match)
  if not m then return end
  for _, mentee in ipairs(m.mentees) do
    -- This mentee's rounds only (read from their own index: a close must not cost every match).
    local had = {}
    for _, r in ipairs(tandem.matches { program = program.name, person = mentee }) do
      if r.state ~= "rejected" then had[#had + 1] = r end
    end
    local live = false
    for _, r in ipairs(had) do live = live or r.state == "active" or r.state == "proposed" end
    local who = tandem.person(mentee)
    if #had >= program.rounds and not live and who and not who.left then
      local as_mentee = tandem.enrolled(mentee, program.followup, "mentee")
      local best, best_round
      for n, r in ipairs(had) do
        local mentor = r.mentors[1]
        if as_mentee and tandem.enrolled(mentor, program.followup, "mentor") and
            (not best or r.meetings_held > best.meetings_held
            or (r.meetings_held == best.meetings_held and r.score >= best.score)) then
          best, best_round = r, n
        end
      end
      if best then
        tandem.note("flash.followup", { mentee = mentee, mentor = best.mentors[1], program = program.followup,
                                        flash_program = program.name, match = best.id, round = best_round })
        if #tandem.matches { program = program.followup, person = mentee, state = "live" } == 0 then
          tandem.propose(program.followup, { mentors = { best.mentors[1] }, mentees = { mentee },
                                             why = { flash_program = program.name, flash_match = best.id } })
        end
      end
    end
  end
end

return M
