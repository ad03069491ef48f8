"""A taxonomy file shared by the ml and the app tests (plain data: no Django)."""

from __future__ import annotations

# The IAB layout: a header naming the tiers, a parent row before its children,
# one repeated row, rows with trailing empty cells (one with an extra empty
# column), a blank row in the middle, and a row with spaces to normalise.
IAB_CSV = (
    "Tier 1,Tier 2,Tier 3\n"
    "Спорт,,\n"
    "Спорт,Футбол,\n"
    "Спорт,Футбол,Премьер-лига\n"
    "Спорт,Футбол,\n"
    "Спорт,Хоккей,,\n"
    "\n"
    "Транспорт,,\n"
    "Транспорт,Автомобили,\n"
    "  Транспорт , Автомобили ,  Электро   мобили \n"
)

IAB_PATHS = {
    "Спорт",
    "Спорт: Футбол",
    "Спорт: Футбол: Премьер-лига",
    "Спорт: Хоккей",
    "Транспорт",
    "Транспорт: Автомобили",
    "Транспорт: Автомобили: Электро мобили",
}
