"""Synthetic county data, generated without touching the database.

Everything is drawn from one `random.Random(seed)` in a fixed order, so the same seed and parameters
give the same county. Rows come out as tuples in the column order named below; the writers add ids,
timestamps and foreign keys.
"""

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from fpr.roles import Level
from households.id_numbers import make_id_number
from households.models import (
    HOUSEHOLD_FIELDS,
    MEMBER_FIELDS,
    ExpenditureKind,
    Health,
    HousingSafety,
    IncomeKind,
    LabourCapacity,
    PovertyStatus,
    Relationship,
    Schooling,
)
from households.seeding import vocabulary as vocab

HOUSEHOLD_COLUMNS = ("number", "village_id", *HOUSEHOLD_FIELDS)
MEMBER_COLUMNS = MEMBER_FIELDS
ITEM_COLUMNS = ("year", "kind", "amount", "note")  # income items and expenditures alike

HOUSEHOLD_SIZE_WEIGHTS = ((1, 9), (2, 19), (3, 21), (4, 24), (5, 17), (6, 10))
EXIT_YEAR_WEIGHTS = ((2014, 6), (2015, 10), (2016, 14), (2017, 18), (2018, 22), (2019, 16), (2020, 14))
IN_SCHOOL = {Schooling.COMPULSORY, Schooling.HIGH_SCHOOL, Schooling.VOCATIONAL, Schooling.COLLEGE}
WORKING = {LabourCapacity.ORDINARY, LabourCapacity.SKILLED, LabourCapacity.WEAK}


class Weighted:
    """A weighted choice with its cumulative weights computed once."""

    def __init__(self, pairs: Sequence[tuple]):
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


SURNAMES = Weighted(vocab.SURNAMES)
SERIOUS_ILLNESSES = Weighted(vocab.SERIOUS_ILLNESSES)
CHRONIC_ILLNESSES = Weighted(vocab.CHRONIC_ILLNESSES)
DISABILITY_CATEGORIES = Weighted(vocab.DISABILITY_CATEGORY_WEIGHTS)
DISABILITY_GRADES = Weighted(vocab.DISABILITY_GRADE_WEIGHTS)
HOUSEHOLD_SIZES = Weighted(HOUSEHOLD_SIZE_WEIGHTS)
EXIT_YEARS = Weighted(EXIT_YEAR_WEIGHTS)


# --------------------------------------------------------------------------- geography


@dataclass(frozen=True)
class PlannedDivision:
    code: str
    name: str
    level: int
    parent: str | None


@dataclass
class CountyPlan:
    province: PlannedDivision
    city: PlannedDivision
    county: PlannedDivision
    townships: list[PlannedDivision]
    villages: list[PlannedDivision]
    households_per_village: list[int]

    @property
    def divisions(self) -> list[PlannedDivision]:
        return [self.province, self.city, self.county, *self.townships, *self.villages]


def apportion(total: int, weights: Sequence[float], *, minimum: int = 0) -> list[int]:
    """Split `total` into integer parts proportional to `weights`, each at least `minimum`
    (largest-remainder method, so the parts always add up)."""
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError("total too small for the minimum")
    scale = rest / sum(weights)
    exact = [w * scale for w in weights]
    parts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: rest - sum(parts)]:
        parts[i] += 1
    return [minimum + p for p in parts]


def _place_name(rng: random.Random, used: set[str]) -> str:
    for attempt in range(200):
        name = rng.choice(vocab.PLACE_FIRST) + rng.choice(vocab.PLACE_SECOND)
        if attempt > 40:  # the two-character names are running out in a very large county
            name += rng.choice(vocab.PLACE_SECOND)
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of place names")


def plan_county(rng: random.Random, *, households: int, county_code: str, county_name: str) -> CountyPlan:
    """Townships of ~15–25 villages, villages of ~300 households (at least two townships of two)."""
    province = PlannedDivision("520000000000", "贵州省", Level.PROVINCE, None)
    city_code = county_code[:4]
    city = PlannedDivision(f"{city_code}00000000", vocab.CITY_NAMES.get(city_code, "毕节市"), Level.CITY, province.code)
    county = PlannedDivision(f"{county_code}000000", county_name, Level.COUNTY, city.code)

    village_count = max(4, round(households / 300))
    township_count = max(2, round(village_count / rng.randint(15, 25)))
    villages_per_township = apportion(
        village_count, [rng.uniform(0.75, 1.25) for _ in range(township_count)], minimum=2
    )
    used_names: set[str] = set()
    townships: list[PlannedDivision] = []
    villages: list[PlannedDivision] = []
    town_seq, xiang_seq = 100, 200  # 统计用区划代码: 镇 100–199, 乡 200–399
    for size in villages_per_township:
        if rng.random() < 0.75:
            code, suffix, town_seq = f"{county_code}{town_seq:03d}000", "镇", town_seq + 1
        else:
            code, suffix, xiang_seq = f"{county_code}{xiang_seq:03d}000", "乡", xiang_seq + 1
        township = PlannedDivision(code, _place_name(rng, used_names) + suffix, Level.TOWNSHIP, county.code)
        townships.append(township)
        for k in range(size):  # 村委会 codes 200–399
            name = _place_name(rng, used_names) + "村"
            villages.append(PlannedDivision(f"{code[:9]}{200 + k:03d}", name, Level.VILLAGE, code))
    per_village = apportion(households, [rng.uniform(0.6, 1.4) for _ in villages])
    return CountyPlan(province, city, county, townships, villages, per_village)


# --------------------------------------------------------------------------- households


@dataclass(slots=True)
class Person:
    relationship: str
    male: bool
    age: int  # completed years at the end of last year
    surname: str
    name: str = ""
    id_number: str = ""
    health: str = Health.HEALTHY
    illness: str = ""
    disability_category: int | None = None
    disability_grade: int | None = None
    disability_certificate: str = ""
    labour: str = LabourCapacity.ORDINARY
    schooling: str = Schooling.NONE
    work_place: str = ""
    work_months: int = 0
    works_away: bool = False
    is_dibao: bool = False
    is_tekun: bool = False
    insured: bool = True
    disabled_elderly: bool = False
    left_behind: bool = False

    def row(self) -> tuple:
        return (
            self.name,
            self.id_number,
            self.relationship,
            self.health,
            self.illness,
            self.disability_category,
            self.disability_grade,
            self.disability_certificate,
            self.labour,
            self.schooling,
            self.work_place,
            self.work_months,
            self.is_dibao,
            self.is_tekun,
            self.insured,
            self.disabled_elderly,
            self.left_behind,
        )


@dataclass(slots=True)
class GeneratedHousehold:
    household: tuple
    members: list[tuple]
    incomes: list[tuple] = field(default_factory=list)
    expenditures: list[tuple] = field(default_factory=list)


class HouseholdGenerator:
    """Generates the households of a planned county, village by village."""

    def __init__(
        self,
        rng: random.Random,
        plan: CountyPlan,
        *,
        current_year: int,
        monitoring_lines: dict[int, int],
        village_names: dict[str, str],
        taken_id_numbers: set[str],
    ):
        self.rng = rng
        self.plan = plan
        self.current_year = current_year
        self.lines = monitoring_lines
        self.village_names = village_names
        self.taken = taken_id_numbers
        self.region_code = plan.county.code[:6]
        self.county_town = plan.county.name[:-1] + "县城" if plan.county.name.endswith("县") else plan.county.name
        self._id_counts: dict[int, int] = {}
        self._years = (current_year, current_year - 1)  # income accounting: the accounting year and the one before

    def __iter__(self) -> Iterator[GeneratedHousehold]:
        for village, count in zip(self.plan.villages, self.plan.households_per_village, strict=True):
            name = self.village_names[village.code]
            groups = max(3, min(15, count // 30))
            if count > 9999:
                raise ValueError(f"{name}的户编号超过9999户，无法继续生成。")
            # 户编号 = village code + 4-digit sequence, as households.services numbers new households.
            for sequence in range(1, count + 1):
                yield self._household(f"{village.code}{sequence:04d}", village.code, name, groups)

    # ---- people

    def _family(self) -> list[Person]:
        """Who lives together: ages consistent with relationships (children younger, parents older)."""
        rng = self.rng
        size = HOUSEHOLD_SIZES.pick(rng)
        surname = SURNAMES.pick(rng)
        if size == 1:
            age = rng.randint(58, 88) if rng.random() < 0.65 else rng.randint(25, 57)
            return [Person(Relationship.HEAD, rng.random() < 0.6, age, surname)]
        head_male = rng.random() < 0.85
        head = Person(Relationship.HEAD, head_male, int(rng.triangular(24, 82, 48)), surname)
        people = [head]
        spouse = None
        if rng.random() < 0.88:
            gap = rng.randint(-2, 6)
            spouse_age = max(20, head.age - gap if head_male else head.age + gap)
            spouse = Person(Relationship.SPOUSE, not head_male, spouse_age, self._other_surname(surname))
            people.append(spouse)
        father = head if head_male else spouse
        child_surname = father.surname if father else (self._other_surname(surname) if rng.random() < 0.8 else surname)
        youngest_parent = min(p.age for p in people)

        if head.age >= 58 and size - len(people) >= 2 and rng.random() < 0.7:
            # Three generations: an adult child with their spouse and children.
            son_line = rng.random() < 0.85
            child_age = max(20, youngest_parent - rng.randint(22, 35))
            child = Person(Relationship.SON if son_line else Relationship.DAUGHTER, son_line, child_age, child_surname)
            in_law_age = max(20, child_age + rng.randint(-5, 3))
            in_law_surname = self._other_surname(child_surname)
            in_law_rel = Relationship.DAUGHTER_IN_LAW if son_line else Relationship.SON_IN_LAW
            in_law = Person(in_law_rel, not son_line, in_law_age, in_law_surname)
            people += [child, in_law]
            grandchild_surname = child_surname if son_line or rng.random() < 0.5 else in_law_surname
            for _ in range(size - len(people)):
                age = rng.randint(0, max(0, min(child_age, in_law_age) - 20))
                people.append(Person(Relationship.GRANDCHILD, rng.random() < 0.52, age, grandchild_surname))
            return people

        if head.age <= 55 and size - len(people) >= 1 and rng.random() < 0.25:
            both = size - len(people) >= 2 and rng.random() < 0.4
            for parent_male in (True, False) if both else (rng.random() < 0.4,):
                age = min(95, head.age + rng.randint(22, 35))
                # The head's father shares the head's surname; the mother keeps her own.
                parent_surname = surname if parent_male else self._other_surname(surname)
                people.append(Person(Relationship.PARENT, parent_male, age, parent_surname))
        for _ in range(size - len(people)):
            if head.age < 60 and rng.random() < 0.04:
                age = max(16, head.age + rng.randint(-10, 10))
                people.append(Person(Relationship.SIBLING, rng.random() < 0.5, age, surname))
            else:  # the youngest parent is at least 20 (heads from 24, spouses from 20)
                age = rng.randint(max(0, youngest_parent - 40), youngest_parent - 20)
                male = rng.random() < 0.52
                people.append(Person(Relationship.SON if male else Relationship.DAUGHTER, male, age, child_surname))
        return people

    def _other_surname(self, surname: str) -> str:
        while True:
            other = SURNAMES.pick(self.rng)
            if other != surname:
                return other

    def _given_name(self, male: bool, birth_year: int) -> str:
        chars = vocab.GIVEN_NAME_CHARS[(male, 0 if birth_year < 1970 else 1 if birth_year < 1995 else 2)]
        rng = self.rng
        if rng.random() < 0.3:
            return rng.choice(chars)
        return rng.choice(chars) + rng.choice(chars)

    def _id_number(self, birth: dt.date, male: bool) -> str:
        # Sequence digits: odd for men, even for women (GB 11643); a per-day counter keeps them unique.
        ordinal = birth.toordinal()
        key = ordinal * 2 + male
        n = self._id_counts.get(key, 0)
        base = (ordinal * 7919) % 500 * 2
        while True:
            if n >= 500:
                raise RuntimeError(f"too many people born on {birth} to give unique ID numbers")
            number = make_id_number(
                region_code=self.region_code, birth_date=birth, sequence=(base + 2 * n) % 1000 + male
            )
            n += 1
            if number not in self.taken:
                break
        self._id_counts[key] = n
        return number

    def _identity(self, person: Person) -> None:
        rng = self.rng
        birth_year = self.current_year - 1 - person.age
        birth = dt.date(birth_year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        person.name = person.surname + self._given_name(person.male, birth_year)
        person.id_number = self._id_number(birth, person.male)

    def _health(self, person: Person) -> None:
        rng = self.rng
        age = person.age
        if age < 18:
            serious, disabled, chronic = 0.004, 0.012, 0.004
        elif age < 60:
            serious, disabled, chronic = 0.018, 0.026, 0.035
        else:
            serious, disabled, chronic = 0.04, 0.05, 0.16
        r = rng.random()
        if r < serious:
            person.health, person.illness = Health.SERIOUS, SERIOUS_ILLNESSES.pick(rng)
        elif r < serious + disabled:
            person.health = Health.DISABLED
            person.disability_category = DISABILITY_CATEGORIES.pick(rng)
            person.disability_grade = DISABILITY_GRADES.pick(rng)
            # 第二代残疾人证号 = ID number + category digit + grade digit.
            person.disability_certificate = f"{person.id_number}{person.disability_category}{person.disability_grade}"
        elif r < serious + disabled + chronic:
            person.health, person.illness = Health.CHRONIC, CHRONIC_ILLNESSES.pick(rng)

    def _schooling(self, person: Person) -> None:
        rng = self.rng
        age = person.age
        if age < 6:
            person.schooling = Schooling.PRESCHOOL
        elif age <= 15:
            if person.health == Health.DISABLED and person.disability_grade <= 2:
                person.schooling = Schooling.HOME_TEACHING  # 送教上门
            elif age >= 12 and rng.random() < 0.004:
                person.schooling = Schooling.DROPOUT
            else:
                person.schooling = Schooling.COMPULSORY
        elif age <= 18:
            r = rng.random()
            person.schooling = Schooling.HIGH_SCHOOL if r < 0.5 else Schooling.VOCATIONAL if r < 0.8 else Schooling.NONE
        elif age <= 22 and rng.random() < 0.35:
            person.schooling = Schooling.COLLEGE

    def _labour(self, person: Person) -> None:
        rng = self.rng
        age = person.age
        if person.health == Health.SERIOUS or (person.health == Health.DISABLED and person.disability_grade <= 2):
            person.labour = LabourCapacity.LOST
        elif age < 16 or person.schooling in IN_SCHOOL or person.schooling == Schooling.HOME_TEACHING:
            person.labour = LabourCapacity.NONE
        elif age >= 70:
            person.labour = LabourCapacity.NONE if rng.random() < 0.75 else LabourCapacity.WEAK
        elif age >= 60 or person.health != Health.HEALTHY:
            person.labour = LabourCapacity.WEAK if rng.random() < 0.75 else LabourCapacity.ORDINARY
        else:
            person.labour = LabourCapacity.SKILLED if rng.random() < 0.15 else LabourCapacity.ORDINARY
        if person.labour == LabourCapacity.LOST and age >= 60:
            person.disabled_elderly = rng.random() < 0.6  # 失能老年人
        if person.labour in WORKING and 16 <= age < 60:
            r = rng.random()
            if person.labour != LabourCapacity.WEAK and r < 0.45:
                person.work_place, person.works_away = rng.choice(vocab.WORK_PLACES_AWAY), True
                person.work_months = rng.randint(6, 12)
            elif person.labour != LabourCapacity.WEAK and r < 0.6:
                person.work_place, person.work_months = rng.choice(vocab.WORK_PLACES_PROVINCE), rng.randint(4, 12)
            elif r < 0.75:
                person.work_place, person.work_months = self.county_town, rng.randint(2, 10)

    # ---- the household

    def _household(self, number: str, village_code: str, village_name: str, groups: int) -> GeneratedHousehold:
        rng = self.rng
        people = self._family()
        for person in people:
            self._identity(person)
            self._health(person)
            self._schooling(person)
            self._labour(person)
            person.insured = rng.random() < 0.993

        away = any(p.works_away for p in people)
        if away:
            for p in people:
                if not p.works_away and (
                    p.age >= 60 or p.age < 16 or (p.relationship == Relationship.SPOUSE and not p.male)
                ):
                    p.left_behind = rng.random() < (0.4 if 16 <= p.age < 60 else 0.7)  # 留守老人妇女儿童

        serious = any(p.health == Health.SERIOUS for p in people)
        severe_disability = any(p.health == Health.DISABLED and p.disability_grade <= 2 for p in people)
        workers = sum(1 for p in people if p.labour in WORKING and 16 <= p.age < 65)
        vulnerable = serious or severe_disability or workers == 0
        if len(people) == 1 and people[0].age >= 60 and people[0].labour not in WORKING and rng.random() < 0.5:
            people[0].is_tekun = True  # 特困供养: alone, old, unable to work
        elif rng.random() < 0.03 + 0.2 * serious + 0.15 * severe_disability + 0.1 * (workers == 0):
            for p in people:
                p.is_dibao = True

        lifted = rng.random() < (0.42 if vulnerable else 0.28)
        spouse_present = any(p.relationship == Relationship.SPOUSE for p in people)
        minors = any(p.relationship in (Relationship.SON, Relationship.DAUGHTER) and p.age < 18 for p in people)
        r = rng.random()
        housing = HousingSafety.GRADE_C if r < 0.02 else HousingSafety.GRADE_D if r < 0.025 else HousingSafety.SAFE
        bank_name, bank_account = "", ""
        if rng.random() < 0.85:
            bank_name, bin_ = rng.choice(vocab.BANKS)
            bank_account = f"{bin_}{rng.randrange(10**13):013d}"
        phone = f"{rng.choice(vocab.MOBILE_PREFIXES)}{rng.randrange(10**8):08d}" if rng.random() < 0.9 else ""
        group = vocab.CHINESE_NUMERALS[rng.randrange(groups)]
        household = (
            number,
            village_code,
            f"{village_name}{group}组{rng.randint(1, 120)}号",
            phone,
            PovertyStatus.LIFTED if lifted else PovertyStatus.ORDINARY,
            EXIT_YEARS.pick(rng) if lifted else None,
            rng.random() < (0.12 if lifted else 0.005),  # 易地扶贫搬迁
            not spouse_present and minors,
            rng.random() < 0.999,
            rng.random() < 0.999,
            not any(p.schooling == Schooling.DROPOUT for p in people),
            all(p.insured for p in people),
            housing,
            rng.random() < 0.985,
            rng.random() < 0.985,
            rng.random() < 0.985,
            rng.random() < 0.99,
            bank_name,
            bank_account,
        )
        generated = GeneratedHousehold(household, [p.row() for p in people])
        self._accounts(generated, people, serious=serious, severe_disability=severe_disability, lifted=lifted)
        return generated

    def _accounts(self, generated: GeneratedHousehold, people: list[Person], **risk: bool) -> None:
        """Income items for the accounting year and the year before, spread around the monitoring line."""
        rng = self.rng
        size = len(people)
        dependants = sum(1 for p in people if p.labour not in WORKING)
        mu = 0.68 - 0.2 * risk["serious"] - 0.1 * risk["severe_disability"] - 0.05 * risk["lifted"]
        mu -= 0.2 * (dependants / size > 0.6)
        last_year, year_before = self._years
        per_capita = self.lines[last_year] * math.exp(rng.gauss(mu, 0.38))
        growth = math.exp(rng.gauss(0.07, 0.06))  # income last year over the year before

        elderly = sum(1 for p in people if p.age >= 60)
        pension = elderly * rng.randint(150, 240) * 10
        dibao = sum(1 for p in people if p.is_dibao) * rng.randint(240, 480) * 10
        tekun = rng.randint(650, 850) * 10 if any(p.is_tekun for p in people) else 0
        land_mu = round(rng.uniform(1.5, 8.0), 1)
        farmland = round(land_mu * rng.uniform(70, 110)) if rng.random() < 0.92 else 0
        eco = rng.randint(15, 180) * 10 if rng.random() < 0.55 else 0
        eco_note = rng.choice(("退耕还林补助", "公益林生态效益补偿", "天然林保护补助"))
        other = sum(1200 for p in people if p.health == Health.DISABLED and p.disability_grade <= 2)  # 残疾人两项补贴
        other += sum(3000 for p in people if p.schooling in (Schooling.VOCATIONAL, Schooling.COLLEGE))  # 雨露计划
        if rng.random() < 0.15:
            other += rng.randint(20, 150) * 10
        transfers = pension + dibao + tekun + farmland + eco + other

        earned = max(0, per_capita * size - transfers)
        working = any(p.labour in WORKING for p in people)
        if not working:
            earned = min(earned, rng.randint(0, 15) * 100)  # a few chickens, a vegetable plot
        away_months = sum(p.work_months for p in people if p.work_place)
        prop = min(earned * 0.1, rng.randint(20, 300) * 10) if rng.random() < 0.2 else 0
        rest = earned - prop
        wage_share = rng.uniform(0.6, 0.95) if away_months >= 6 else rng.uniform(0.05, 0.5) if working else 0.0
        wage = rest * wage_share
        business_net = rest - wage
        business_cost = business_net * rng.uniform(0.25, 0.6)
        for year, factor, transfer_factor in ((last_year, 1.0, 1.0), (year_before, 1 / growth, 0.97)):
            items = (
                (IncomeKind.WAGE, wage * factor, "外出务工" if away_months >= 6 else "本地务工"),
                (IncomeKind.BUSINESS, (business_net + business_cost) * factor, "种植养殖"),
                (IncomeKind.BUSINESS_COST, business_cost * factor, "种子化肥饲料"),
                (IncomeKind.PROPERTY, prop * factor, "土地流转、入股分红"),
                (IncomeKind.PENSION, pension * transfer_factor, "城乡居民基本养老金"),
                (IncomeKind.DIBAO, dibao * transfer_factor, ""),
                (IncomeKind.TEKUN, tekun * transfer_factor, ""),
                (IncomeKind.FARMLAND_SUBSIDY, farmland, f"承包地{land_mu}亩"),
                (IncomeKind.ECO_COMPENSATION, eco, eco_note),
                (IncomeKind.OTHER_TRANSFER, other * transfer_factor, "残疾人补贴、雨露计划等"),
            )
            generated.incomes += [
                (year, kind, round(amount), note) for kind, amount, note in items if round(amount) > 0
            ]

        medical = sum(
            rng.randint(50, 400) * 100
            if p.health == Health.SERIOUS
            else rng.randint(6, 40) * 100
            if p.health == Health.CHRONIC and rng.random() < 0.5
            else 0
            for p in people
        )
        students = sum(
            1 for p in people if p.schooling in (Schooling.HIGH_SCHOOL, Schooling.VOCATIONAL, Schooling.COLLEGE)
        )
        education = students * rng.randint(20, 90) * 100 if students and rng.random() < 0.6 else 0
        for year, factor in ((last_year, 1.0), (year_before, rng.uniform(0.6, 1.2))):
            if medical:
                generated.expenditures.append((year, ExpenditureKind.MEDICAL, round(medical * factor), "医疗自付"))
            if education:
                generated.expenditures.append((year, ExpenditureKind.EDUCATION, round(education * factor), ""))
        if rng.random() < 0.008:
            note = rng.choice(("洪涝灾害", "冰雹灾害", "山体滑坡"))
            generated.expenditures.append((last_year, ExpenditureKind.DISASTER, rng.randint(30, 300) * 100, note))
        if rng.random() < 0.004:
            note = rng.choice(("交通事故", "意外摔伤"))
            generated.expenditures.append((last_year, ExpenditureKind.ACCIDENT, rng.randint(20, 500) * 100, note))
