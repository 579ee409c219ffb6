"""Statistical periods (统计期间): a month "2026-11", a quarter "2026-Q4" or a year "2026", and the
accounting year (算账年度) of a day.

Used by the statistics (reports), by the case list's "identified / eliminated in" filters (workflow) and
by every page, job and rule that reads a household's income, so it lives here, left of them all.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone

from fpr import clock

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
# The years a period may name: the programme started after 2000, and a far year (9999) would overflow
# the date arithmetic of the statistics (the day after 31 Dec 9999 does not exist).
FIRST_YEAR, LAST_YEAR = 2000, 2100

# 算账年度: from this month on, cadres account (算账) the income of the calendar year they are in and
# compare it with that year's monitoring line (监测范围); in the months before it they are still closing
# the previous year's accounting (年度收入核算 runs into the new year, and a province publishes the new
# year's 监测范围 in its first months).
ACCOUNTING_YEAR_START_MONTH = 3


def accounting_year(day: dt.date | None = None) -> int:
    """The year whose income a cadre accounts on `day` (today by default): the calendar year from
    1 March, the previous year in January and February. The one rule for the household page's 算账,
    the 信息采集表, the ledger, the data-quality job, the classification helper, the "七个不消" rules,
    the API's default year and the demo seeding; the monitoring line used is the one of this year."""
    day = day or clock.today()
    return day.year if day.month >= ACCOUNTING_YEAR_START_MONTH else day.year - 1


@dataclass(frozen=True)
class Period:
    """A calendar period, both ends included. `code` is how it is written in URLs and filters."""

    code: str
    start: dt.date
    end: dt.date
    label: str

    @classmethod
    def parse(cls, text: str) -> "Period":
        """Parse "2026-11" (November 2026), "2026-Q4" (October–December) or "2026" (the year); ValueError with a
        Chinese message otherwise."""
        text = (text or "").strip()
        match = _MONTH.match(text) or _QUARTER.match(text) or _YEAR.match(text)
        if match and not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            raise ValueError(f"统计期间的年份须在{FIRST_YEAR}年至{LAST_YEAR}年之间。")
        if match := _MONTH.match(text):
            year, month = int(match[1]), int(match[2])
            if 1 <= month <= 12:
                return cls._month(year, month)
        elif match := _QUARTER.match(text):
            year, quarter = int(match[1]), int(match[2])
            start = dt.date(year, 3 * quarter - 2, 1)
            return cls(f"{year}-Q{quarter}", start, _month_end(year, 3 * quarter), f"{year}年第{quarter}季度")
        elif match := _YEAR.match(text):
            year = int(match[1])
            return cls(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year}年")
        raise ValueError("统计期间格式为 2026-11（月）、2026-Q4（季度）或 2026（年）。")

    @classmethod
    def _month(cls, year: int, month: int) -> "Period":
        start = dt.date(year, month, 1)
        return cls(f"{year}-{month:02d}", start, _month_end(year, month), f"{year}年{month}月")

    @classmethod
    def month_of(cls, day: dt.date) -> "Period":
        return cls._month(day.year, day.month)

    def aware_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as aware datetimes in the site's time zone (Beijing): for datetime columns."""
        tz = timezone.get_default_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end

    def previous_months(self, count: int) -> list["Period"]:
        """The `count` months ending with this period's last month, oldest first."""
        year, month = self.end.year, self.end.month
        months = []
        for _ in range(count):
            months.append(Period._month(year, month))  # may reach before FIRST_YEAR: no parsing
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return months[::-1]


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` to `end` (a month counts once its day is reached: 07-31 → 10-30 is 2)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day else 0)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, _month_end(year, month + 1).day))


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    return following - dt.timedelta(days=1)
