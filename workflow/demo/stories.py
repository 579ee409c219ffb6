"""Why demo households applied, and the measure that answers each reason."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Story:
    """Why a household applied, and the measure that answers it."""

    risk: str
    description: str
    measure_category: str
    measure: str
    amount: int = 0


STORIES = (
    Story(
        "unstable_employment",
        "户主在外务工的企业停产，今年大部分时间没有工资收入，家庭收入明显下降。",
        "employment",
        "推荐到县城工业园区务工，签订一年劳动合同",
    ),
    Story(
        "industry_failure",
        "家中养殖的生猪因疫病大量死亡，产业投入无法收回，收入骤降。",
        "industry",
        "发放产业奖补资金，扶持发展肉牛养殖",
        5000,
    ),
    Story(
        "accident",
        "户主务工时意外摔伤，住院治疗三个月不能劳动，家庭收入减少。",
        "public_job",
        "安排村保洁公益性岗位，每月工资800元",
        9600,
    ),
    Story(
        "disaster",
        "6月冰雹灾害致玉米、烤烟大面积受灾，种植收入大幅减少。",
        "industry",
        "落实农业保险理赔，补种秋季蔬菜并由合作社保底收购",
        3000,
    ),
)
ILLNESS = Story(
    "illness",
    "{member}确诊尿毒症，需每周透析，医疗自付费用高，家庭收入难以维持。",
    "health",
    "落实大病专项救治、医疗救助和家庭医生签约服务",
    12000,
)
NO_LABOUR = Story(
    "lack_of_labour",
    "家中成员年老体弱，均无劳动能力，主要依靠养老金和低保维持生活。",
    "social_security",
    "纳入农村低保，按月发放低保金",
    4200,
)
