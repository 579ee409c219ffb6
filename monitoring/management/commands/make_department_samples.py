"""python manage.py make_department_samples [--output monitoring/samples] [--period 2026-11]

Writes one sample list per department (SPEC §5) for the demo registry: run it against a database
freshly seeded by `seed_demo --households 2000 --seed 2026 --with-users` (in 2026, or with
`--year 2026`). Each file holds registered demo members of several villages — always some of the first
village, whose cadre is the demo user "cunganbu" —, two IDs of nobody registered and a few bad rows of
different kinds. Encodings and formats vary as departments' exports do. Besides the files it writes
manifest.json (what every row is meant to produce; tests/test_samples.py checks it) and README.md.

Deterministic: the same registry gives byte-identical CSV files (XLSX files differ only in their
timestamps).
"""

import csv
import datetime as dt
import io
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fpr.roles import Department
from households.id_numbers import check_digit, make_id_number
from households.models import Division, Household, Member, User
from monitoring.screening.departments import source_for

DEFAULT_OUTPUT = Path(settings.BASE_DIR) / "monitoring" / "samples"
OUTSIDE_REGION = "520502"  # 七星关区: a neighbouring county, never in the demo registry
YEAR = 2026


@dataclass
class BadRow:
    kind: str  # what is wrong, in the README's words
    column: str  # the column label the rejected-rows report names
    id_number: str = ""  # replaces the ID (a bad one); "" keeps a fresh unregistered valid ID
    values: dict[str, object] = field(default_factory=dict)  # column label → bad value
    numeric_id: bool = False  # XLSX: the ID stored as a number, as Excel does unless told "text"


@dataclass
class Sample:
    department: str
    file_name: str
    encoding: str  # "utf-8", "utf-8-sig", "gbk", "gb18030", or "" for XLSX
    values: dict[str, list]  # column label → values cycled over the rows (valid ones)
    bad: list[BadRow]
    ages: tuple[int, int] = (0, 120)  # the people a department lists (school pupils, working age …)
    header: dict[str, str] = field(default_factory=dict)  # column label → the alias this file uses
    rare_name: str = ""  # an unregistered person's name with a character outside GBK

    @property
    def file_format(self) -> str:
        return "xlsx" if self.file_name.endswith(".xlsx") else "csv"


def _checked(reason: str) -> BadRow:
    return BadRow(reason, "身份证号")


SAMPLES = [
    Sample(
        Department.CIVIL_AFFAIRS,
        "civil_affairs_2026-11.csv",
        "gbk",
        {
            "救助类型": ["低保", "临时救助", "特困", "最低生活保障", "临时救助"],
            "救助金额": ["3600", "1500", "8400.50", "3240", "2000"],
            "批准日期": ["2026-11-03", "2026/11/12", "2026年11月8日", "2026-11-20", "2026-11-15"],
        },
        [
            BadRow("救助类型不在可选值内", "救助类型", values={"救助类型": "低收入户"}),
            BadRow("身份证号校验位错误", "身份证号", id_number="check"),
            BadRow("必填的救助类型为空", "救助类型", values={"救助类型": ""}),
        ],
    ),
    Sample(
        Department.MEDICAL_INSURANCE,
        "medical_insurance_2026-11.csv",
        "utf-8",
        {
            "个人自付金额": ["62000", "23500.80", "8000", "51200", "12000", "31000"],
            "费用期间": ["2026-10"],
            "就诊机构": ["大方县人民医院", "毕节市第一人民医院", "贵州医科大学附属医院"],
        },
        [
            BadRow("自付金额不是数字", "个人自付金额", values={"个人自付金额": "约三千元"}),
            BadRow("身份证号只有17位", "身份证号", id_number="short"),
            BadRow("必填的自付金额为空", "个人自付金额", values={"个人自付金额": ""}),
        ],
    ),
    Sample(
        Department.HEALTH,
        "health_2026-11_gb18030.csv",
        "gb18030",
        {
            "疾病名称": ["尿毒症", "恶性肿瘤", "脑卒中后遗症", "重性精神障碍", "慢性阻塞性肺病"],
            "确诊日期": ["2026-10-28", "2026-11-02", "2026-11-09"],
        },
        [
            BadRow("身份证号中的出生日期无效（2月30日）", "身份证号", id_number="birth"),
            BadRow("确诊日期不是日期", "确诊日期", values={"确诊日期": "2026-13-45"}),
        ],
        ages=(18, 120),
        rare_name="刘䶮",
    ),
    Sample(
        Department.DISABLED_FEDERATION,
        "disabled_federation_2026-11.xlsx",
        "",
        {"残疾类别": ["肢体", "视力", "精神", "听力"], "残疾等级": ["一级", "2", "二级", "1级"]},
        [
            BadRow("身份证号被 Excel 存成数字（末几位已丢失）", "身份证号", numeric_id=True),
            BadRow("残疾等级不在可选值内", "残疾等级", values={"残疾等级": "五级"}),
            BadRow("身份证号为空", "身份证号", id_number="empty"),
        ],
    ),
    Sample(
        Department.HOUSING,
        "housing_2026-11.xlsx",
        "",
        {
            "危房等级": ["C级", "D级", "C", "D"],
            "房屋地址": ["一组", "三组", "五组"],
            "鉴定日期": [dt.date(2026, 10, 20), dt.date(2026, 11, 5), dt.date(2026, 11, 11)],
        },
        [BadRow("鉴定等级不在可选值内", "危房等级", values={"危房等级": "B级"})],
        ages=(30, 120),
        header={"危房等级": "鉴定等级"},
    ),
    Sample(
        Department.EDUCATION,
        "education_2026-11_bom.csv",
        "utf-8-sig",
        {"学籍状态": ["辍学", "休学", "学籍异常", "失学辍学"], "学校名称": ["大方县第一中学", "羊场镇中心小学"]},
        [
            BadRow("学籍状态不在可选值内", "学籍状态", values={"学籍状态": "转学"}),
            BadRow("身份证号含字母（末位以外）", "身份证号", id_number="letters"),
        ],
        ages=(7, 17),
    ),
    Sample(
        Department.HUMAN_RESOURCES,
        "human_resources_2026-11.csv",
        "utf-8",
        {"就业状态": ["失业", "返乡未就业", "登记失业", "返乡"], "登记日期": ["2026-11-01", "2026-11-16"]},
        [
            BadRow("登记日期不是日期", "登记日期", values={"登记日期": "十一月初"}),
            BadRow("必填的就业状态为空", "就业状态", values={"就业状态": ""}),
        ],
        ages=(18, 59),
    ),
    Sample(
        Department.EMERGENCY,
        "emergency_2026-11.csv",
        "utf-8",
        {
            "灾害类型": ["洪涝", "冰雹", "山体滑坡", "火灾"],
            "直接经济损失": ["25000", "6000", "3200", "48000"],
            "受灾日期": ["2026-11-06"],
        },
        [BadRow("损失金额为负数", "直接经济损失", values={"直接经济损失": "-500"})],
        ages=(30, 120),
        header={"直接经济损失": "损失金额"},
    ),
    Sample(
        Department.WATER,
        "water_2026-11.csv",
        "utf-8",
        {"问题类型": ["水质", "水量不足", "取水不便", "供水保证率"]},
        [BadRow("问题类型不在可选值内", "问题类型", values={"问题类型": "水压低"})],
        ages=(30, 120),
    ),
    Sample(
        Department.PUBLIC_SECURITY,
        "public_security_2026-11.csv",
        "utf-8",
        {"变动类型": ["死亡", "迁出", "户籍迁出", "死亡注销"], "变动日期": ["2026-11-02", "2026-11-19"]},
        [BadRow("身份证号校验位错误", "身份证号", id_number="check")],
        ages=(20, 120),
    ),
    Sample(
        Department.VEHICLES,
        "vehicles_2026-11.csv",
        "utf-8",
        {
            "号牌号码": ["贵F·3K2A7", "贵F·8M61Q", "贵A·2C9D0"],
            "车辆类型": ["小型轿车", "小型越野客车", "轻型货车"],
            "登记日期": ["2025-06-12", "2026-03-30"],
        },
        [BadRow("身份证号只有17位", "身份证号", id_number="short")],
        ages=(20, 65),
    ),
    Sample(
        Department.REAL_ESTATE,
        "real_estate_2026-11.csv",
        "utf-8",
        {
            "不动产坐落": ["大方县城关镇锦绣花园3栋", "毕节市七星关区碧阳小区"],
            "建筑面积": ["98.6", "121.3", "87"],
            "登记日期": ["2026-09-15"],
        },
        [BadRow("建筑面积不是数字", "建筑面积", values={"建筑面积": "一百平"})],
        ages=(25, 70),
    ),
    Sample(
        Department.MARKET_REGULATION,
        "market_regulation_2026-11.csv",
        "utf-8",
        {
            "企业名称": ["大方县富民种养殖专业合作社", "大方县惠民农资经营部", "贵州黔山商贸有限公司"],
            "注册资本": ["500000", "30000", "1000000"],
        },
        [BadRow("注册资本不是数字", "注册资本", values={"注册资本": "伍拾万"})],
        ages=(25, 65),
        header={"企业名称": "市场主体名称"},
    ),
    Sample(
        Department.FINANCE,
        "finance_2026-11.csv",
        "utf-8",
        {"工作单位": ["大方县教育局", "羊场镇人民政府", "大方县人民医院"]},
        [BadRow("必填的工作单位为空", "工作单位", values={"工作单位": ""})],
        ages=(22, 60),
    ),
]

ENCODING_LABELS = {
    "utf-8": "CSV，UTF-8",
    "utf-8-sig": "CSV，UTF-8 带 BOM（Excel“CSV UTF-8”）",
    "gbk": "CSV，GBK（Excel 中文版“CSV（逗号分隔）”）",
    "gb18030": "CSV，GB18030（含 GBK 没有的字）",
    "": "XLSX",
}


def _age(id_number: str) -> int:
    return YEAR - int(id_number[6:10])


def _bad_id(kind: str, valid: str) -> str:
    if kind == "check":
        return valid[:17] + ("0" if valid[17] != "0" else "1")
    if kind == "short":
        return valid[:17]
    if kind == "birth":
        first17 = f"{OUTSIDE_REGION}19800230007"  # 30 February, with a correct check digit
        return first17 + check_digit(first17)
    if kind == "letters":
        return valid[:10] + "AB" + valid[12:]
    if kind == "empty":
        return ""
    raise ValueError(kind)


class Command(BaseCommand):
    help = "生成各部门的比对样例文件（与 seed_demo --households 2000 --seed 2026 的演示数据对应）。"

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(DEFAULT_OUTPUT))
        parser.add_argument("--period", default="2026-11")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        codes = set(Household.objects.values_list("village_id", flat=True))
        villages = list(Division.objects.filter(code__in=codes).order_by("code"))
        cadre = User.objects.filter(username="cunganbu").select_related("division").first()
        if cadre and cadre.division in villages:  # cunganbu's village first (the first one seeded)
            villages.remove(cadre.division)
            villages.insert(0, cadre.division)
        if len(villages) < 6:
            raise CommandError("演示数据太少：请先运行 seed_demo --households 2000 --seed 2026 --with-users。")
        output = Path(options["output"])
        output.mkdir(parents=True, exist_ok=True)
        people = {
            v.code: list(
                Member.objects.filter(household__village=v)
                .order_by("household__number", "id_number")
                .values_list("id_number", "name")
            )
            for v in villages
        }
        manifest = {"period": options["period"], "households": 2000, "seed": options["seed"], "files": []}
        for sample in SAMPLES:
            rng = random.Random(f"{options['seed']}:{sample.department}")
            # The first village (cunganbu's) and four others, each from its own part of the county.
            others = rng.sample(villages[1:], 4)
            chosen = [(villages[0], 3)] + [(v, 2) for v in others]
            entries = []
            for village, count in chosen:
                fitting = [p for p in people[village.code] if sample.ages[0] <= _age(p[0]) <= sample.ages[1]]
                for id_number, name in rng.sample(fitting, min(count, len(fitting))):
                    entries.append({"kind": "registered", "id": id_number, "name": name, "village": village.code})
            for n in range(2):
                birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
                number = make_id_number(region_code=OUTSIDE_REGION, birth_date=birth, sequence=rng.randrange(1000))
                name = sample.rare_name if sample.rare_name and n == 0 else rng.choice(["王小红", "杨国强", "罗建平"])
                entries.append({"kind": "unregistered", "id": number, "name": name})
            for bad in sample.bad:
                valid = "X"
                while valid.endswith("X"):  # a number Excel can hold as a number (the numeric_id row)
                    birth = dt.date(1970, 1, 1) + dt.timedelta(days=rng.randrange(15_000))
                    valid = make_id_number(region_code=OUTSIDE_REGION, birth_date=birth, sequence=rng.randrange(1000))
                number = _bad_id(bad.id_number, valid) if bad.id_number else valid
                entries.append({"kind": "bad", "id": number, "name": "张某", "bad": bad})
            rng.shuffle(entries)
            rows = self._rows(sample, entries)
            path = output / sample.file_name
            if sample.file_format == "xlsx":
                self._write_xlsx(path, sample, rows)
            else:
                self._write_csv(path, sample, rows)
            manifest["files"].append(
                {
                    "file": sample.file_name,
                    "department": sample.department,
                    "department_label": Department(sample.department).label,
                    "format": sample.file_format,
                    "encoding": sample.encoding.replace("-sig", "") if sample.encoding else "",
                    "bom": sample.encoding == "utf-8-sig",
                    "rows": len(entries),
                    "registered": {
                        str(n): e["village"] for n, e in enumerate(entries, start=2) if e["kind"] == "registered"
                    },
                    "unregistered": [n for n, e in enumerate(entries, start=2) if e["kind"] == "unregistered"],
                    "bad": {
                        str(n): {"column": e["bad"].column, "kind": e["bad"].kind}
                        for n, e in enumerate(entries, start=2)
                        if e["kind"] == "bad"
                    },
                }
            )
            self.stdout.write(f"{sample.file_name}: {len(entries)} 行")
        (output / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        (output / "README.md").write_text(self._readme(manifest, villages[0]), encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"已生成 {len(SAMPLES)} 个样例文件：{output}"))

    def _rows(self, sample: Sample, entries: list[dict]) -> tuple[list[str], list[list]]:
        source = source_for(sample.department)
        labels = [c.label for c in source.columns]
        header = [sample.header.get(label, label) for label in labels]
        rows = []
        for n, entry in enumerate(entries):
            values: dict[str, object] = {"身份证号": entry["id"], "姓名": entry["name"]}
            for label, cycle in sample.values.items():
                values[label] = cycle[n % len(cycle)]
            bad = entry.get("bad")
            if bad:
                values.update(bad.values)
                if bad.numeric_id:
                    values["身份证号"] = float(entry["id"])  # what Excel keeps: 15 significant digits
            rows.append([values.get(label, "") for label in labels])
        return header, rows

    def _write_csv(self, path: Path, sample: Sample, table: tuple[list[str], list[list]]) -> None:
        header, rows = table
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        path.write_bytes(text.getvalue().encode(sample.encoding))

    def _write_xlsx(self, path: Path, sample: Sample, table: tuple[list[str], list[list]]) -> None:
        from openpyxl import Workbook

        header, rows = table
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = Department(sample.department).label
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        for cell in sheet["A"][1:]:
            if isinstance(cell.value, str):
                cell.number_format = "@"  # the ID column as text, as a careful exporter sets it
        for column in sheet.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        sheet.column_dimensions["A"].width = 22
        workbook.properties.creator = "fpr"
        workbook.properties.created = workbook.properties.modified = dt.datetime(2026, 11, 20)
        workbook.save(path)

    def _readme(self, manifest: dict, first_village: Division) -> str:
        lines = [
            "# 部门比对样例文件（Department comparison samples）",
            "",
            f"One list per department for period **{manifest['period']}**, matching the demo registry built by",
            "`manage.py seed_demo --households 2000 --seed 2026 --with-users` (what `scripts/demo` seeds, in 2026).",
            "Generated by `manage.py make_department_samples` against a freshly seeded demo database;",
            "`manifest.json` says what every row should produce and `tests/test_samples.py` checks it.",
            "",
            f"Every file lists registered demo members of five villages, always including {first_village.name}",
            f"({first_village.code}, the village of the demo cadre `cunganbu`), so warnings reach several village",
            "queues; two ID numbers of people registered nowhere in the county (rejected as 未匹配到本辖区登记人员);",
            "and the bad rows below. Row numbers count the header as row 1, as a spreadsheet does.",
            "Upload them as `guanli` (系统管理员, every department) or `bumen`",
            "(部门数据专员 of 医保: only the 医保 file).",
            "",
            "| file | department | format / encoding | rows | warnings | unregistered rows | bad rows (row: problem) |",
            "|---|---|---|---|---|---|---|",
        ]
        for entry in manifest["files"]:
            sample = next(s for s in SAMPLES if s.file_name == entry["file"])
            bad = "; ".join(f"{row}: {info['kind']}" for row, info in entry["bad"].items())
            lines.append(
                f"| `{entry['file']}` | {entry['department_label']} | {ENCODING_LABELS[sample.encoding]} | "
                f"{entry['rows']} | {len(entry['registered'])} | {', '.join(map(str, entry['unregistered']))} | {bad} |"
            )
        lines += [
            "",
            "With the encoding left to 自动识别 the GBK file is read as GBK and the GB18030 file as GB18030: it",
            "contains 䶮, which GBK cannot encode. Some files use the accepted aliases of a column name",
            "(鉴定等级, 损失金额, 市场主体名称). Regenerate after changing the demo seeding:",
            "",
            "```bash",
            "rm -f /tmp/demo.sqlite3",
            "export DATABASE_URL=sqlite:////tmp/demo.sqlite3 FPR_DEMO=1",
            ".venv/bin/python manage.py migrate",
            ".venv/bin/python manage.py seed_demo --households 2000 --seed 2026 --with-users --year 2026",
            ".venv/bin/python manage.py make_department_samples",
            "```",
            "",
        ]
        return "\n".join(lines)
