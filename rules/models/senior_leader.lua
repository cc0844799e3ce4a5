-- senior_leader: sessions with a senior leader — a fireside chat or a listening lunch — where
-- one leader (tagged `senior_leader` in the HRIS export) meets a table of attendees. A session
-- is a short match: one meeting, then the match completes (no re-up). Leaders' time is scarce:
-- each leads at most `sessions_per_year` sessions in any 365 days, and when seats are short,
-- people who have not attended a session of the program yet go first.
--
-- Defaults (a program may override any of them):
--   format = "fireside" (or "listening_lunch"), session_size = 12 (attendees per session,
--   1 to 100), sessions_per_year = 2 (per leader in any 365 days, 1 to 52)
--   term = "1d", cadence = "18h" (the one meeting is held 18 hours after the session is set;
--   the next would fall after the term), review_every = "1d" (feedback right after it),
--   match_every = "1mo", reup = false (a session completes at its term's end),
--   repeat_pairs = true (people may attend the same leader again), objective = "coverage"
--   leader (mentor side, role `leader`): tagged senior_leader
--   attendee (mentee side, role `attendee`): everyone not tagged senior_leader
--   score: 1, + 1 when the attendee is in another department than the leader
--   capacity: 1 (unused: sessions are counted, not mentees)
-- Matching: tandem.solve.groups, at most one new session per leader per matching tick, none
-- while they have a session live or have led sessions_per_year sessions started in the last
-- 365 days. First-timers (no held session of this program among their past matches) go
-- first, then the longest waiting. The match's `why` gives the `format`, the number of
-- `first_timers` and each attendee's reasons under `attendees`.
local tandem = require "tandem"

local M = {}
M.description = "Fireside chats and listening lunches with senior leaders"

M.roles = { mentor = "leader", mentee = "attendee" }
M.fields = { format = true, session_size = true, sessions_per_year = true }

local FORMATS = { fireside = true, listening_lunch = true }
local YEAR = 365 * 86400
-- Being a first-timer is worth more waiting than anyone can have done.
local FIRST_TIME = 10 ^ 12

M.defaults = {
  format = "fireside",
  session_size = 12,
  sessions_per_year = 2,
  term = "1d",
  cadence = "18h",
  review_every = "1d",
  match_every = "1mo",
  reup = false,
  repeat_pairs = true,
  objective = "coverage",
  mentor = function(p) return p.tags.senior_leader == true end,
  mentee = function(p) return not p.tags.senior_leader end,
  score = function(leader, attendee, explain)
    local cross = (leader.department ~= attendee.department) and 1 or 0
    if not explain then return 1 + cross end
    return 1 + cross, { cross_department = cross }
  end,
  capacity = 1,
  -- Large pools: each attendee is scored with at most 5 leaders (spread evenly, in C, before
  -- any score call): any leader will do, and fewer edges keep the session solver fast.
  prefilter = { limit = 5 },
}

local function whole(v, lo, hi)
  return math.type(v) == "integer" and v >= lo and v <= hi
end

function M.validate(program)
  if not FORMATS[program.format] then
    return 'format must be "fireside" or "listening_lunch" (got ' .. tostring(program.format) .. ")", "format"
  end
  if not whole(program.session_size, 1, 100) then
    return "session_size must be a whole number from 1 to 100 (got " .. tostring(program.session_size) .. ")", "session_size"
  end
  if not whole(program.sessions_per_year, 1, 52) then
    return "sessions_per_year must be a whole number from 1 to 52 (got " .. tostring(program.sessions_per_year) .. ")", "sessions_per_year"
  end
end

-- Sessions each leader started in the last 365 days, and who has attended a held session:
-- read from the pool's own people's matches, so a tick costs the pool, not the history.
function M.history(program, now, pool)
  local recent, attended = {}, {}
  for _, leader in ipairs(pool.mentors) do
    for _, m in ipairs(tandem.matches { program = program.name, person = leader.id }) do
      if m.state ~= "rejected" and m.started > now - YEAR and m.mentors[1] == leader.id then
        recent[leader.id] = (recent[leader.id] or 0) + 1
      end
    end
  end
  for _, a in ipairs(pool.mentees) do
    for _, m in ipairs(tandem.matches { program = program.name, person = a.id }) do
      if m.state ~= "rejected" and m.meetings_held > 0 and m.mentors[1] ~= a.id then
        attended[a.id] = true
      end
    end
  end
  return recent, attended
end

function M.match(program, pool)
  local now = tandem.now()
  local recent, attended = M.history(program, now, pool)
  local groups = tandem.solve.groups(pool.mentors, pool.mentees, program.score, program.session_size, nil, {
    objective = program.objective,
    -- One new session per leader per tick while the year's allowance lasts (the solver then
    -- takes away a session still live: leader.load).
    groups = function(leader)
      return (recent[leader.id] or 0) < program.sessions_per_year and 1 or 0
    end,
    priority = function(attendee)
      local waited = now - (attendee.waiting_since or now)
      return math.tointeger((attended[attendee.id] and 0 or FIRST_TIME) + math.max(waited, 0))
    end,
  })
  for _, g in ipairs(groups) do
    local first = 0
    for _, a in ipairs(g.mentees) do
      if not attended[a.id] then first = first + 1 end
    end
    g.why = { format = program.format, first_timers = first, attendees = g.why }
  end
  return groups
end

return M
