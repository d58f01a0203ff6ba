"""Transport time between regions, in whole weeks, from the great-circle distance between provincial capitals.

Plans are made in weekly buckets, so the table is deliberately coarse. Provinces are grouped into the seven
customary zones (华北, 东北, 华东, 华中, 华南, 西南, 西北); Hong Kong, Macao and Taiwan are zones of their own.
Within a zone goods arrive in time for the next week (0 extra weeks); between zones whose centres (the mean of
their capitals) lie within 1,500 km they take one extra week, farther two; crossing a customs border adds one;
another country is 3 weeks. A successor operation always starts at the earliest the week after its predecessor
ends, so 0 still means one week from the predecessor's last week. Keeping transport a function of zones keeps
the solver's model small (zones, not factories, are paired). Pure: no Django.
"""

from __future__ import annotations

import math
from functools import lru_cache

# Provincial capitals (GB/T 2260 province code → latitude, longitude in degrees).
CAPITALS: dict[str, tuple[float, float]] = {
    "110000": (39.90, 116.40),  # Beijing
    "120000": (39.13, 117.20),  # Tianjin
    "130000": (38.04, 114.51),  # Shijiazhuang
    "140000": (37.87, 112.55),  # Taiyuan
    "150000": (40.84, 111.75),  # Hohhot
    "210000": (41.80, 123.43),  # Shenyang
    "220000": (43.82, 125.32),  # Changchun
    "230000": (45.80, 126.53),  # Harbin
    "310000": (31.23, 121.47),  # Shanghai
    "320000": (32.06, 118.80),  # Nanjing
    "330000": (30.27, 120.16),  # Hangzhou
    "340000": (31.82, 117.23),  # Hefei
    "350000": (26.07, 119.30),  # Fuzhou
    "360000": (28.68, 115.86),  # Nanchang
    "370000": (36.65, 117.12),  # Jinan
    "410000": (34.75, 113.63),  # Zhengzhou
    "420000": (30.59, 114.31),  # Wuhan
    "430000": (28.23, 112.94),  # Changsha
    "440000": (23.13, 113.26),  # Guangzhou
    "450000": (22.82, 108.32),  # Nanning
    "460000": (20.04, 110.34),  # Haikou
    "500000": (29.56, 106.55),  # Chongqing
    "510000": (30.57, 104.07),  # Chengdu
    "520000": (26.65, 106.63),  # Guiyang
    "530000": (25.04, 102.71),  # Kunming
    "540000": (29.65, 91.17),  # Lhasa
    "610000": (34.34, 108.94),  # Xi'an
    "620000": (36.06, 103.83),  # Lanzhou
    "630000": (36.62, 101.78),  # Xining
    "640000": (38.49, 106.23),  # Yinchuan
    "650000": (43.83, 87.62),  # Urumqi
    "710000": (25.03, 121.57),  # Taipei
    "810000": (22.32, 114.17),  # Hong Kong
    "820000": (22.20, 113.54),  # Macao
}
ZONES: dict[str, tuple[str, ...]] = {
    "north": ("110000", "120000", "130000", "140000", "150000"),
    "northeast": ("210000", "220000", "230000"),
    "east": ("310000", "320000", "330000", "340000", "350000", "360000", "370000"),
    "central": ("410000", "420000", "430000"),
    "south": ("440000", "450000", "460000"),
    "southwest": ("500000", "510000", "520000", "530000", "540000"),
    "northwest": ("610000", "620000", "630000", "640000", "650000"),
    "taiwan": ("710000",),
    "hongkong": ("810000",),
    "macao": ("820000",),
}
ZONE_OF = {code: zone for zone, codes in ZONES.items() for code in codes}
NEAR_KM = 1500
ABROAD_WEEKS = 3


def province_of(region: str) -> str:
    """The province code of a six-digit region code (440300 → 440000); other codes (countries) unchanged."""
    if len(region) == 6 and region.isdigit():
        return region[:2] + "0000"
    return region


def zone_of(region: str) -> str:
    """The transport zone of a region code: a zone name for China, else the country code itself."""
    return ZONE_OF.get(province_of(region), province_of(region))


def _centre(zone: str) -> tuple[float, float]:
    points = [CAPITALS[c] for c in ZONES[zone]]
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@lru_cache(maxsize=1024)
def zone_weeks(a: str, b: str) -> int:
    """Extra weeks between two zones (see the module's note); unknown or foreign zones count as abroad."""
    if a == b or not a or not b:
        return 0
    if a not in ZONES or b not in ZONES:
        return ABROAD_WEEKS
    weeks = 1 if _km(_centre(a), _centre(b)) <= NEAR_KM else 2
    customs = {"taiwan", "hongkong", "macao"}
    return weeks + (1 if a in customs or b in customs else 0)


def transport_weeks(a: str, b: str) -> int:
    """Extra weeks from a factory in region `a` to one in region `b` (an empty region: 0)."""
    if not a or not b:
        return 0
    return zone_weeks(zone_of(a), zone_of(b))
