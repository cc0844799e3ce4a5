-- network: a one-to-one relationship in which the mentor opens their network. Once the pair
-- has held `intro_after` meetings, the mentor introduces one contact at each held meeting
-- (an `intro` event), up to `intros` contacts; a contact joins the match's later meetings as
-- a guest. Contacts come from the mentor's own network: the people they are or were matched
-- with, in any program, and their department colleagues.
--
-- Defaults (a program may override any of them):
--   intro_after = 2 (held meetings before the first introduction, 1 or more),
--   intros = 2 (contacts introduced per match, 1 to 20),
--   term = "6mo", cadence = "2w", review_every = "3mo", match_every = "1w",
--   objective = "coverage"
--   mentor: level 6 and up; mentee: level 5 and below
--   score: 2 per skill the mentor has and the mentee wants, 2 across departments (a
--          network the mentee does not have yet), 1 for a level gap of 2 to 5
--   capacity: the person's `capacity` column
-- Who is introduced first: the contact with most skills the mentee wants; then people the
-- mentor is or was matched with before department colleagues; then by id. Never the mentee,
-- the mentor, someone introduced to the match already, someone who left, someone the mentee
-- has been matched with, or anyone in the mentee's reporting line.
local tandem = require "tandem"

local M = {}
M.description = "One-to-one mentoring where the mentor introduces contacts from their network"

M.fields = { intro_after = true, intros = true }

M.defaults = {
  intro_after = 2,
  intros = 2,
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
    if not explain then return 2 * skills + 2 * cross + stretch end
    return 2 * skills + 2 * cross + stretch,
           { skills = skills, cross_department = cross, level_gap = gap }
  end,
  capacity = function(mentor) return mentor.capacity end,
  -- Large pools: each mentee is scored with at most 40 mentors, those sharing most of what
  -- they want first (in C, before any score call).
  prefilter = { prefer = { "skills", "wants" }, limit = 40 },
}

local function whole(v, lo, hi)
  return math.type(v) == "integer" and v >= lo and v <= hi
end

function M.validate(program)
  if not whole(program.intro_after, 1, 100) then
    return "intro_after must be a whole number of held meetings from 1 to 100 (got "
           .. tostring(program.intro_after) .. ")", "intro_after"
  end
  if not whole(program.intros, 1, 20) then
    return "intros must be a whole number from 1 to 20 (got " .. tostring(program.intros) .. ")", "intros"
  end
end

function M.match(program, pool)
  return tandem.solve.assign(pool.mentors, pool.mentees, program.score, program.capacity,
                             { objective = program.objective })
end


-- The mentor's own matches in any program (read from the mentor's index, not all matches)
-- as contacts for this mentee, { person = p, source = "match", useful = skills the mentee
-- wants }, most useful first, then by id; never the mentor, the mentee or whoever is in
-- `skip`. Fills `seen` (a set of ids) with those listed.
local function partners_of(mentor, mentee, skip, seen)
  local list = {}
  local function add(id)
    if seen[id] or skip[id] or id == mentor.id or id == mentee.id then return end
    local p = tandem.person(id)
    if not p then return end
    seen[id] = true
    list[#list + 1] = { person = p, source = "match", useful = tandem.overlap(p.skills, mentee.wants) }
  end
  for _, m in ipairs(tandem.matches { person = mentor.id }) do
    if m.state == "active" or m.state == "closed" then
      for _, id in ipairs(m.mentors) do add(id) end
      for _, id in ipairs(m.mentees) do add(id) end
    end
  end
  table.sort(list, function(a, b)
    if a.useful ~= b.useful then return a.useful > b.useful end
    return a.person.id < b.person.id
  end)
  return list
end

-- The best contact the mentor can introduce to the mentee now, or nil: the most useful to the
-- mentee (skills they want), the mentor's own matches before department colleagues, then by
-- id. Someone who left, whom the mentee has been matched with, or who is in the mentee's
-- reporting line is passed over. Colleagues are known by id (tandem.ids): how useful one is,
-- is how many of the per-skill lists of the mentee's wants hold them; they are tried level by
-- level, and only those looked at become person tables; those useful to nobody only when no
-- one else fits.
function M.next_contact(mentor, mentee, skip)
  local function fits(p) return p and not p.left and not tandem.met(mentee, p) and not tandem.in_line(mentee, p) end
  local seen = {}
  local partners = partners_of(mentor, mentee, skip, seen)
  local function eligible(id) return not (seen[id] or skip[id] or id == mentor.id or id == mentee.id) end
  local useful, top = {}, 0   -- colleague id -> items they have of the mentee's wants
  if mentor.department then
    for skill in pairs(mentee.wants) do
      for _, id in ipairs(tandem.ids { department = mentor.department, skill = skill }) do
        if eligible(id) then
          local n = (useful[id] or 0) + 1
          useful[id] = n
          if n > top then top = n end
        end
      end
    end
  end
  local at_level = {}   -- level -> its colleagues' ids, sorted when the level is reached
  for id, n in pairs(useful) do
    local list = at_level[n]
    if list then list[#list + 1] = id else at_level[n] = { id } end
  end
  local p_at = 1   -- partners, sorted, are taken in turn across the levels
  for level = math.max(top, partners[1] and partners[1].useful or 0), 1, -1 do
    while partners[p_at] and partners[p_at].useful >= level do
      local c = partners[p_at]
      p_at = p_at + 1
      if fits(c.person) then return c end
    end
    local ids = at_level[level]
    if ids then   -- this level's colleagues, smallest id first
      table.sort(ids)
      for _, id in ipairs(ids) do
        local p = tandem.person(id)
        if fits(p) then return { person = p, source = "department", useful = level } end
      end
    end
  end
  for i = p_at, #partners do
    if fits(partners[i].person) then return partners[i] end
  end
  if not mentor.department then return nil end
  local rest = {}   -- useful to nobody (those useful were all tried above)
  for _, id in ipairs(tandem.ids { department = mentor.department }) do
    if eligible(id) and useful[id] == nil then rest[#rest + 1] = id end
  end
  table.sort(rest)
  for _, id in ipairs(rest) do
    local p = tandem.person(id)
    if fits(p) then return { person = p, source = "department", useful = 0 } end
  end
end

M.on = {}

-- At each held meeting from the intro_after-th on, one more contact, until `intros` of them.
-- The meeting's `guests` are the contacts introduced so far.
function M.on.meeting(ev, program)
  if ev.phase ~= "held" then return end
  local guests = ev.guests or {}
  if #guests >= program.intros then return end
  local m = tandem.match(ev.match)
  if not m or m.state ~= "active" or m.meetings_held < program.intro_after then return end
  local mentor, mentee = tandem.person(m.mentors[1]), tandem.person(m.mentees[1])
  if not mentor or not mentee then return end
  local skip = {}
  for _, id in ipairs(guests) do skip[id] = true end
  local best = M.next_contact(mentor, mentee, skip)
  if best then tandem.introduce(ev.match, best.person.id) end
end

return M
