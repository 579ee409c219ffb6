"""Department sources (部门数据来源): what each department's monthly list holds and what it raises.

Reference data kept as code: a source's columns are a file format the comparison parser reads, so they
change with the code, not in the admin. Every source has the ID number column; the other columns are
checked by type and kept with the warning as its source data (SPEC §5).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from fpr.roles import Department


class ColumnType:
    ID = "id"  # 18-digit citizen ID number (GB 11643), read as text
    TEXT = "text"
    DECIMAL = "decimal"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header a department writes
    type: str = ColumnType.TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    # For CHOICE: the accepted values, each with the spellings that mean it ({"D": ("D级", "d")}).
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)


@dataclass(frozen=True)
class GradeRule:
    """The warning grade (red/orange/yellow/blue) of a row: by a choice value, by an amount reaching a
    threshold, or the source's default."""

    default: str
    column: str = ""
    by_value: dict[str, str] = field(default_factory=dict)
    # (threshold, grade) from the highest threshold down.
    thresholds: tuple[tuple[Decimal, str], ...] = ()


@dataclass(frozen=True)
class Source:
    department: str
    kind: str  # warning kind code, unique per source
    kind_label: str  # what cadres call the warning
    description: str  # what the department sends
    columns: tuple[Column, ...]
    grade: GradeRule
    risk_category: str = ""  # monitoring.reference code; "" when the warning is not a poverty risk
    # Asset hits (车辆/商品房/工商注册/财政供养) flag the household for the property check (富人戴穷帽).
    asset_kind: str = ""

    @property
    def label(self) -> str:
        return Department(self.department).label

    @property
    def required_columns(self) -> list[Column]:
        return [c for c in self.columns if c.required]


ID = Column(
    "id_number",
    "身份证号",
    ColumnType.ID,
    required=True,
    aliases=(
        "身份证号码",
        "公民身份号码",
        "公民身份证号",
        "公民身份证号码",
        "身份证件号码",
        "证件号码",
        "证件号",
        "身份证",
        "身份号码",
    ),
)
NAME = Column("name", "姓名", aliases=("人员姓名", "对象姓名", "救助对象姓名", "参保人姓名", "名字"))

SOURCES: dict[str, Source] = {
    s.department: s
    for s in [
        Source(
            Department.CIVIL_AFFAIRS,
            "social_assistance",
            "新纳入低保/特困/临时救助",
            "当月新纳入最低生活保障、特困供养和临时救助的人员",
            (
                ID,
                NAME,
                Column(
                    "assistance_type",
                    "救助类型",
                    ColumnType.CHOICE,
                    required=True,
                    aliases=("保障类别", "救助类别", "保障类型", "救助种类", "对象类别", "救助项目"),
                    choices={
                        "低保": (
                            "最低生活保障",
                            "农村低保",
                            "城市低保",
                            "城镇低保",
                            "农村最低生活保障",
                            "城市最低生活保障",
                            "城乡低保",
                            "低保对象",
                        ),
                        "特困": (
                            "特困供养",
                            "特困人员",
                            "分散特困",
                            "集中特困",
                            "分散供养特困人员",
                            "集中供养特困人员",
                            "农村特困",
                            "城市特困",
                            "五保",
                        ),
                        "临时救助": ("临时救助对象", "临时性救助"),
                    },
                ),
                Column(
                    "amount",
                    "救助金额",
                    ColumnType.DECIMAL,
                    aliases=("月保障金额", "保障金额", "月救助金额", "救助金", "月保障金", "发放金额"),
                ),
                Column(
                    "approved_on",
                    "批准日期",
                    ColumnType.DATE,
                    aliases=("批准时间", "审批日期", "审批时间", "纳入时间", "纳入日期"),
                ),
            ),
            GradeRule("yellow", "assistance_type", by_value={"特困": "red", "低保": "orange", "临时救助": "yellow"}),
            risk_category="other",
        ),
        Source(
            Department.MEDICAL_INSURANCE,
            "medical_cost",
            "大额医疗费用个人自付",
            "医保结算中个人自付费用较高的参保人",
            (
                ID,
                NAME,
                Column(
                    "out_of_pocket",
                    "个人自付金额",
                    ColumnType.DECIMAL,
                    required=True,
                    aliases=("个人自付", "自付费用", "自付金额", "个人自付费用", "个人负担", "个人负担金额", "自付"),
                ),
                Column("cost_period", "费用期间", aliases=("结算期间", "结算时间", "结算日期", "费用发生期间")),
                Column("hospital", "就诊机构", aliases=("医疗机构", "就诊医院", "定点医疗机构", "医院名称")),
            ),
            GradeRule("yellow", "out_of_pocket", thresholds=((Decimal("50000"), "red"), (Decimal("20000"), "orange"))),
            risk_category="illness",
        ),
        Source(
            Department.HEALTH,
            "serious_illness",
            "重大疾病/慢性病",
            "新确诊大病、重病或需长期治疗慢性病的人员",
            (
                ID,
                NAME,
                Column(
                    "illness",
                    "疾病名称",
                    required=True,
                    aliases=(
                        "疾病诊断",
                        "诊断名称",
                        "病种",
                        "病种名称",
                        "诊断",
                    ),
                ),
                Column(
                    "diagnosed_on",
                    "确诊日期",
                    ColumnType.DATE,
                    aliases=(
                        "确诊时间",
                        "诊断日期",
                        "诊断时间",
                    ),
                ),
            ),
            GradeRule("orange"),
            risk_category="illness",
        ),
        Source(
            Department.DISABLED_FEDERATION,
            "severe_disability",
            "新增重度残疾",
            "新办或换领残疾人证、评定为重度残疾的人员",
            (
                ID,
                NAME,
                Column("disability_type", "残疾类别", aliases=("残疾类型",)),
                Column(
                    "disability_grade",
                    "残疾等级",
                    ColumnType.CHOICE,
                    required=True,
                    choices={
                        "一级": ("1", "一", "1级"),
                        "二级": ("2", "二", "2级"),
                        "三级": ("3", "三", "3级"),
                        "四级": ("4", "四", "4级"),
                    },
                    aliases=("残疾级别",),
                ),
            ),
            GradeRule("orange", "disability_grade", by_value={"一级": "red", "二级": "red"}),
            risk_category="disability",
        ),
        Source(
            Department.HOUSING,
            "dangerous_housing",
            "C/D级危房",
            "房屋安全鉴定为C级、D级的农户",
            (
                ID,
                NAME,
                Column(
                    "housing_grade",
                    "危房等级",
                    ColumnType.CHOICE,
                    required=True,
                    aliases=("鉴定等级",),
                    choices={"C": ("C级", "c"), "D": ("D级", "d")},
                ),
                Column(
                    "address",
                    "房屋地址",
                    aliases=(
                        "住房地址",
                        "房屋坐落",
                        "地址",
                    ),
                ),
                Column("assessed_on", "鉴定日期", ColumnType.DATE),
            ),
            GradeRule("orange", "housing_grade", by_value={"D": "red", "C": "orange"}),
            risk_category="housing",
        ),
        Source(
            Department.EDUCATION,
            "school_dropout",
            "辍学/学籍异常",
            "义务教育阶段辍学、休学或学籍异常的学生",
            (
                ID,
                NAME,
                Column(
                    "school_status",
                    "学籍状态",
                    ColumnType.CHOICE,
                    required=True,
                    choices={"辍学": ("失学辍学",), "休学": (), "学籍异常": ("异常",)},
                    aliases=(
                        "学生状态",
                        "学籍状况",
                    ),
                ),
                Column(
                    "school",
                    "学校名称",
                    aliases=(
                        "就读学校",
                        "学校",
                    ),
                ),
            ),
            GradeRule("yellow", "school_status", by_value={"辍学": "red", "休学": "orange"}),
            risk_category="schooling",
        ),
        Source(
            Department.HUMAN_RESOURCES,
            "unemployment",
            "失业/返乡",
            "登记失业或返乡未就业的务工人员",
            (
                ID,
                NAME,
                Column(
                    "employment_status",
                    "就业状态",
                    ColumnType.CHOICE,
                    required=True,
                    choices={"失业": ("登记失业",), "返乡未就业": ("返乡",)},
                    aliases=(
                        "就业情况",
                        "就业状况",
                    ),
                ),
                Column("registered_on", "登记日期", ColumnType.DATE),
            ),
            GradeRule("yellow", "employment_status", by_value={"失业": "orange"}),
            risk_category="unstable_employment",
        ),
        Source(
            Department.EMERGENCY,
            "disaster",
            "受灾",
            "因自然灾害或事故受灾的农户",
            (
                ID,
                NAME,
                Column(
                    "disaster_type",
                    "灾害类型",
                    required=True,
                    aliases=(
                        "灾种",
                        "灾害种类",
                        "受灾类型",
                    ),
                ),
                Column("loss", "直接经济损失", ColumnType.DECIMAL, aliases=("损失金额",)),
                Column(
                    "occurred_on",
                    "受灾日期",
                    ColumnType.DATE,
                    aliases=(
                        "受灾时间",
                        "灾害发生时间",
                    ),
                ),
            ),
            GradeRule("yellow", "loss", thresholds=((Decimal("20000"), "red"), (Decimal("5000"), "orange"))),
            risk_category="disaster",
        ),
        Source(
            Department.WATER,
            "unsafe_water",
            "饮水不安全",
            "饮水水量、水质、用水方便程度或供水保证率不达标的农户",
            (
                ID,
                NAME,
                Column(
                    "water_problem",
                    "问题类型",
                    ColumnType.CHOICE,
                    required=True,
                    choices={
                        "水量": ("水量不足",),
                        "水质": ("水质不达标",),
                        "用水方便程度": ("取水不便",),
                        "供水保证率": (),
                    },
                    aliases=(
                        "饮水问题",
                        "存在问题",
                    ),
                ),
            ),
            GradeRule("yellow", "water_problem", by_value={"水质": "orange", "水量": "orange"}),
            risk_category="drinking_water",
        ),
        Source(
            Department.PUBLIC_SECURITY,
            "household_change",
            "死亡/户籍迁移",
            "死亡注销或户籍迁出的人员（需更新家庭成员信息）",
            (
                ID,
                NAME,
                Column(
                    "change_type",
                    "变动类型",
                    ColumnType.CHOICE,
                    required=True,
                    choices={"死亡": ("死亡注销",), "迁出": ("户籍迁出",)},
                    aliases=(
                        "变更类型",
                        "变动原因",
                    ),
                ),
                Column(
                    "changed_on",
                    "变动日期",
                    ColumnType.DATE,
                    aliases=(
                        "变动时间",
                        "注销日期",
                    ),
                ),
            ),
            GradeRule("blue", "change_type", by_value={"死亡": "yellow"}),
        ),
        Source(
            Department.VEHICLES,
            "asset_vehicle",
            "车辆信息",
            "名下登记机动车（不含摩托车、三轮车、农用车）的人员",
            (
                ID,
                NAME,
                Column(
                    "plate",
                    "号牌号码",
                    aliases=(
                        "车牌号码",
                        "车牌号",
                    ),
                ),
                Column("vehicle_type", "车辆类型", aliases=("车辆类别",)),
                Column("registered_on", "登记日期", ColumnType.DATE),
            ),
            GradeRule("blue"),
            asset_kind="车辆",
        ),
        Source(
            Department.REAL_ESTATE,
            "asset_house",
            "商品房信息",
            "在城镇购买商品房的人员",
            (
                ID,
                NAME,
                Column(
                    "location",
                    "不动产坐落",
                    aliases=(
                        "房屋坐落",
                        "坐落",
                    ),
                ),
                Column("area", "建筑面积", ColumnType.DECIMAL),
                Column("registered_on", "登记日期", ColumnType.DATE),
            ),
            GradeRule("blue"),
            asset_kind="商品房",
        ),
        Source(
            Department.MARKET_REGULATION,
            "asset_business",
            "工商注册信息",
            "担任企业法定代表人或股东、登记个体工商户的人员",
            (
                ID,
                NAME,
                Column("enterprise", "企业名称", aliases=("市场主体名称",)),
                Column("capital", "注册资本", ColumnType.DECIMAL),
            ),
            GradeRule("blue"),
            asset_kind="工商注册",
        ),
        Source(
            Department.FINANCE,
            "asset_public_payroll",
            "财政供养人员",
            "由财政发放工资的机关事业单位人员",
            (
                ID,
                NAME,
                Column(
                    "employer",
                    "工作单位",
                    required=True,
                    aliases=(
                        "单位名称",
                        "所在单位",
                    ),
                ),
            ),
            GradeRule("blue"),
            asset_kind="财政供养",
        ),
    ]
}

KIND_LABELS = {s.kind: s.kind_label for s in SOURCES.values()}
ASSET_KINDS = {s.kind for s in SOURCES.values() if s.asset_kind}


def source_for(department: str) -> Source:
    return SOURCES[department]
