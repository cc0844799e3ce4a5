-- rotational: a mentee meets a new mentor every rotation, learning how many parts of the
-- organization think. Mentors are ambassadors (tagged `ambassador` in the HRIS export). Each
-- rotation is one short match: its term is `rotate_every` and its end closes the match with
-- reason "rotated" (the program's `rotate = true`); the mentee goes back to the pool and is
-- matched with a mentor they have never had in the program (the engine never repeats a pair),
-- until they have had `rotations` rotations.
--
-- Defaults (a program may override any of them):
--   rotate_every = "1mo", rotations = 12, meetings_per_rotation = 2,
--   term = "1mo" (must equal rotate_every), rotate = true, reup = false,
--   cadence = "2w" (must fit: meetings_per_rotation meetings in a rotation, not one more),
--   review_every = "1mo" (one review at the end of each rotation), match_every = "1d"
--   (a mentee whose rotation ended is matched again within a day), objective = "coverage"
--   mentor: tagged ambassador (only ambassadors mentor, whatever `mentor` says);
--   mentee: anyone with a level who is not an ambassador
--   score: 1 + 2 per skill the mentor has and the mentee wants + 1 across departments,
--          + 2 (in `why` as new_department) when the mentee has not yet rotated through the
--          mentor's department; `why.rotation` is the rotation's number for the mentee
--   capacity: the person's `capacity` column
-- Changing rotate_every or meetings_per_rotation means giving term and cadence to match: the
-- load error says which values fit.
-- Lifecycle: when a mentee's last rotation ends, a note "rotational.completed" lists their
-- mentors.
local tandem = require "tandem"

local M = {}
M.description = "A new ambassador mentor every rotation, never the same one twice"

M.fields = { rotate_every = true, rotations = true, meetings_per_rotation = true }

local DAY = 86400
local UNIT = { m = 60, h = 3600, d = DAY, w = 7 * DAY }

-- The shortest and longest a duration can last, in seconds (months are calendar months:
-- 28 to 31 days; a year 365 or 366). nil for text that is no duration.
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

-- Two durations that always last the same ("1w" and "7d", "1y" and "12mo").
local function same(a, b)
  local alo, ahi = span(a)
  local blo, bhi = span(b)
  if not alo or not blo then return false end
  local months = function(t)
    local n, unit = t:match("^(%d+)(%a+)$")
    return (unit == "mo" and tonumber(n)) or (unit == "y" and 12 * tonumber(n)) or nil
  end
  if months(a) or months(b) then return months(a) == months(b) end
  return alo == blo and ahi == bhi
end

local function whole(v, lo, hi)
  return math.type(v) == "integer" and v >= lo and v <= hi
end

M.defaults = {
  rotate_every = "1mo",
  rotations = 12,
  meetings_per_rotation = 2,
  term = "1mo",
  rotate = true,
  reup = false,
  cadence = "2w",
  review_every = "1mo",
  match_every = "1d",
  objective = "coverage",
  mentor = function(p) return p.tags.ambassador == true end,
  mentee = function(p) return p.level ~= nil and not p.tags.ambassador end,
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
  local every = program.rotate_every
  local lo, hi = span(every)
  if not lo then
    return 'rotate_every must be a duration like "1mo" or "2w" (got ' .. tostring(every) .. ")", "rotate_every"
  end
  if not whole(program.rotations, 1, 120) then
    return "rotations must be a whole number from 1 to 120 (got " .. tostring(program.rotations) .. ")", "rotations"
  end
  local n = program.meetings_per_rotation
  if not whole(n, 1, 100) then
    return "meetings_per_rotation must be a whole number from 1 to 100 (got " .. tostring(n) .. ")", "meetings_per_rotation"
  end
  if program.rotate ~= true then
    return "rotate must be true for rotational: a rotation's end moves the mentee on", "rotate"
  end
  if not same(program.term, every) then
    return 'term must equal rotate_every ("' .. every .. '"): one rotation is one match (got "'
           .. program.term .. '")', "term"
  end
  -- n meetings must fit in the shortest rotation, and an (n+1)th must not fit in the longest.
  local c = span(program.cadence)
  if c * n > lo or c * (n + 1) <= hi then
    local fit_lo, fit_hi = hi // (n + 1) + 1, lo // n   -- seconds
    local hint
    if -(-fit_lo // DAY) <= fit_hi // DAY then
      hint = "a cadence from " .. -(-fit_lo // DAY) .. "d to " .. fit_hi // DAY .. "d"
    elseif -(-fit_lo // 3600) <= fit_hi // 3600 then
      hint = "a cadence from " .. -(-fit_lo // 3600) .. "h to " .. fit_hi // 3600 .. "h"
    else
      hint = "a longer rotate_every or fewer meetings_per_rotation"
    end
    return 'cadence "' .. program.cadence .. '" does not give ' .. n .. " meetings in each rotation of "
           .. every .. "; give " .. hint, "cadence"
  end
end

-- Each mentee's rotations so far in the program (any match not rejected) and their mentors,
-- in the order they had them.
-- Each listed mentee's rotations so far in the program: how many, and their mentors in
-- order. Read from each person's own matches, so a tick costs the pool, not the history.
function M.history(program, ids)
  local seen = {}
  for _, id in ipairs(ids) do
    local h = { count = 0, mentors = {} }
    for _, m in ipairs(tandem.matches { program = program.name, person = id }) do
      local as_mentee = false
      for _, x in ipairs(m.mentees) do as_mentee = as_mentee or x == id end
      if m.state ~= "rejected" and as_mentee then
        h.count = h.count + 1
        for _, mid in ipairs(m.mentors) do h.mentors[#h.mentors + 1] = mid end
      end
    end
    seen[id] = h
  end
  return seen
end

local NONE = { count = 0, mentors = {} }

-- Whether any of the mentors has room for one more mentee (the daily tick's usual answer is
-- no: then the mentees' histories are not worth reading).
-- A capacity that is not a whole number is the solver's to refuse, so it counts as room.
local function any_room(program, mentors)
  for _, m in ipairs(mentors) do
    local c = program.capacity
    if type(c) == "function" then c = c(m) elseif c == nil then c = m.capacity end
    c = math.tointeger(c)
    if c == nil or c - (m.load or 0) > 0 then return true end
  end
  return false
end

function M.match(program, pool)
  local mentors, department = {}, {}
  for _, m in ipairs(pool.mentors) do
    department[m.id] = m.department
    if m.tags.ambassador then mentors[#mentors + 1] = m end
  end
  if not any_room(program, mentors) then return {} end
  local ids = {}
  for i, e in ipairs(pool.mentees) do ids[i] = e.id end
  local history = M.history(program, ids)
  local mentees = {}
  for _, e in ipairs(pool.mentees) do
    if (history[e.id] or NONE).count < program.rotations then mentees[#mentees + 1] = e end
  end
  -- The departments each mentee has rotated through (a mentor who left: looked up).
  local visited = {}
  local function visited_by(id)
    if not visited[id] then
      local v = {}
      for _, mid in ipairs((history[id] or NONE).mentors) do
        local d = department[mid]
        if d == nil then
          local p = tandem.person(mid)
          d = p and p.department
        end
        if d then v[d] = true end
      end
      visited[id] = v
    end
    return visited[id]
  end
  local score = function(mentor, mentee, explain)
    local s, why = program.score(mentor, mentee, explain)
    if s == nil or s == false then return s end
    local fresh = (mentor.department and not visited_by(mentee.id)[mentor.department]) and 1 or 0
    if not explain then return s + 2 * fresh end
    why = type(why) == "table" and why or {}
    why.new_department = fresh
    why.rotation = (history[mentee.id] or NONE).count + 1
    return s + 2 * fresh, why
  end
  return tandem.solve.assign(mentors, mentees, score, program.capacity, { objective = program.objective })
end

M.on = {}

-- The mentee's last rotation is over: say so, with the mentors they met, in order.
function M.on.close(ev, program)
  if ev.reason ~= "rotated" then return end
  local m = tandem.match(ev.match)
  if not m then return end
  local history = M.history(program, m.mentees)
  for _, id in ipairs(m.mentees) do
    local h = history[id]
    if h and h.count >= program.rotations then
      tandem.note("rotational.completed", { mentee = id, program = program.name, rotations = h.count,
                                            mentors = h.mentors })
    end
  end
end

return M
