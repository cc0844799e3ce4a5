#!/usr/bin/env python3
"""Writes a deterministic, realistic HRIS export for the example organization.

usage: make_people.py N SEED > people.csv
A reporting tree (CEO, directors, managers, staff), departments, levels 1-15,
skills and wants, tags, time zones, and questionnaire answers (q_*), some blank.
"""
import csv
import random
import sys

DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", "People", "Operations", "Product", "Legal"]
SKILLS = ["sql", "python", "negotiation", "public_speaking", "budgeting", "design", "leadership",
          "data_analysis", "writing", "coaching", "hiring", "strategy", "lua", "c", "project_management",
          "ai_tools", "social_media"]
# What newer people tend to know better than their seniors (for reverse mentoring).
NEW_SKILLS = ["ai_tools", "social_media"]
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "America/Chicago", "Asia/Tokyo",
         "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo"]
CITIES = {"Europe/Berlin": "Berlin", "Europe/London": "London", "America/New_York": "New York",
          "America/Chicago": "Chicago", "Asia/Tokyo": "Tokyo", "Asia/Kolkata": "Bengaluru",
          "Australia/Sydney": "Sydney", "America/Sao_Paulo": "Sao Paulo"}
FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goran", "Hana", "Ivan", "Jo", "Kemi", "Luis",
         "Mira", "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Vik", "Wen", "Yara", "Zoe"]
LAST = ["Ruiz", "Okafor", "Schmidt", "Tanaka", "Novak", "Haddad", "Silva", "Kowalski", "Nguyen", "Patel",
        "Berg", "Costa", "Moreau", "Ivanova", "Mensah", "Larsen", "Kim", "Ortiz", "Adeyemi", "Rossi"]
BACKGROUNDS = ["engineering", "humanities", "business", "science", "arts", ""]
STYLES = ["direct", "reflective", "practical", ""]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 240
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "name", "email", "title", "department", "level", "tenure_years", "timezone",
                  "location", "skills", "wants", "tags", "capacity", "manager", "plan",
                  "q_background", "q_style"])
    people = []
    for i in range(n):
        pid = f"p{i + 1:04d}"
        external = i > 0 and rng.random() < 0.04
        if i == 0:
            level, dept, manager = 15, "Operations", ""
        elif external:
            # Mentors from partner organizations: senior, outside the reporting tree.
            level, dept, manager = rng.randint(10, 13), "Partner", ""
        else:
            # Managers are drawn from earlier, more senior people: a tree, no cycles.
            level = max(1, min(14, int(rng.gauss(5, 2.6))))
            dept = rng.choice(DEPARTMENTS)
            seniors = [p for p in people if p["level"] > level + 1 and (p["department"] == dept or p["level"] >= 13)]
            manager = rng.choice(seniors)["id"] if seniors else "p0001"
        zone = rng.choice(ZONES)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        skills = rng.sample(SKILLS, rng.randint(1, 2 + level // 3))
        if level <= 3 and rng.random() < 0.5:
            skills = sorted(set(skills) | {rng.choice(NEW_SKILLS)})
        wants = rng.sample([s for s in SKILLS if s not in skills], rng.randint(1, 3))
        if level >= 10 and rng.random() < 0.5:
            wants = sorted(set(wants) | {s for s in NEW_SKILLS if s not in skills})
        tags = ["external"] if external else []
        if level >= 9 and not external and rng.random() < 0.6:
            tags.append("senior_leader")
        if level <= 5 and rng.random() < 0.15:
            tags.append("high_potential")
        if not external and level >= 5 and rng.random() < 0.12:
            tags.append("ambassador")
        capacity = 1 if level < 8 else rng.choice([1, 2, 2, 3])
        title = ("Chief Operating Officer" if i == 0 else "Partner mentor" if external else
                 ("Director" if level >= 12 else "Manager" if level >= 8 else "Specialist" if level >= 4
                  else "Associate") + " " + dept)
        plan = rng.choice(["", "", f"Grow toward a lead role in {dept}", f"Move into {rng.choice(DEPARTMENTS)}",
                           "Build depth in " + wants[0]])
        row = {"id": pid, "level": level, "department": dept}
        if not external:
            people.append(row)   # externals manage no one
        out.writerow([pid, f"{first} {last}", f"{first.lower()}.{last.lower()}{i + 1}@example.org", title, dept,
                      level, round(rng.uniform(0.2, 3 + level * 1.5), 1), zone, CITIES[zone],
                      ";".join(skills), ";".join(wants), ";".join(tags), capacity, manager, plan,
                      rng.choice(BACKGROUNDS), rng.choice(STYLES)])


if __name__ == "__main__":
    main()
