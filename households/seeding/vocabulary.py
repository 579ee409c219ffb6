"""Word lists for synthetic demo data: names, places, illnesses, banks. Tuples, so order is fixed and
the same seed always draws the same words."""

# Common surnames in rural Guizhou (毕节 area), with rough relative weights.
SURNAMES = (
    ("陈", 60), ("王", 58), ("李", 56), ("张", 50), ("刘", 40), ("杨", 45), ("黄", 30), ("赵", 25),
    ("吴", 28), ("周", 24), ("罗", 30), ("龙", 20), ("安", 12), ("陆", 10), ("朱", 14), ("徐", 12),
    ("胡", 14), ("郭", 10), ("何", 15), ("高", 10), ("马", 12), ("袁", 9), ("邓", 10), ("彭", 8),
    ("曾", 8), ("谢", 9), ("韩", 5), ("唐", 8), ("冯", 6), ("许", 6), ("宋", 6), ("苏", 6),
    ("蒋", 6), ("田", 9), ("余", 7), ("杜", 6), ("潘", 7), ("熊", 6), ("史", 4), ("吕", 4),
    ("邹", 5), ("汪", 4), ("付", 5), ("肖", 6), ("钟", 5), ("蔡", 5), ("文", 5), ("卢", 5),
    ("禄", 3), ("聂", 3), ("管", 3), ("孔", 3), ("颜", 3), ("敖", 3), ("穆", 2), ("邱", 4),
)  # fmt: skip

# Given-name characters by sex and by the generation a person was born in: names follow fashions.
GIVEN_NAME_CHARS = {
    # (male, born before 1970 / 1970–1994 / from 1995)
    (True, 0): "德福贵富明文华国光学忠荣发祥云清林昌永开正兴顺友才成和仁金银生全洪顺",
    (True, 1): "勇军伟强涛斌俊杰鹏磊波刚超海建平松坤宏志飞亮江峰林明兵剑",
    (True, 2): "浩宇轩博泽睿俊涵晨梓瑞铭辰阳鑫航豪文翔然凯皓锦逸彬奕",
    (False, 0): "秀英兰芳珍凤琼梅桂翠菊莲玉花香娥群美芬素春碧仙",
    (False, 1): "丽艳燕敏静娟红玲霞洁慧萍琴婷雪莉琳蓉丹倩英梅",
    (False, 2): "欣怡涵梓萱雨佳思诗雅琪悦可馨彤妍语婧若依晴瑶沁",
}

# Place-name syllables for townships (乡镇) and villages (村): first + second character.
PLACE_FIRST = "羊黄猫大小凤龙马牛白红青新长核沙双石金银安高对理百瓢果兴鼎绿星普八六三雨东西南北竹桃松杉梨花茶"
PLACE_SECOND = "场泥山坪塘冲坝寨河井溪岩岭洞田林庄堡营桥关口湾沟园坡垭哨屯坎铺"

CHINESE_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四", "十五")

# 大病 (major illness) names as recorded in the registry; the first few are the most common.
SERIOUS_ILLNESSES = (
    ("尿毒症", 18), ("肺癌", 10), ("胃癌", 8), ("肝癌", 7), ("乳腺癌", 6), ("宫颈癌", 4), ("白血病", 6),
    ("重症精神病", 8), ("脑瘫", 4), ("先天性心脏病", 5), ("耐多药肺结核", 3), ("脑梗死", 10), ("冠心病支架术后", 6),
)  # fmt: skip
CHRONIC_ILLNESSES = (
    ("高血压", 30), ("糖尿病", 18), ("慢性阻塞性肺疾病", 10), ("冠心病", 8), ("类风湿关节炎", 8),
    ("脑卒中后遗症", 6), ("慢性肾炎", 4), ("肺结核", 2), ("慢性肝炎", 4), ("腰椎间盘突出症", 10),
)  # fmt: skip

# Disability category (certificate digit 1–7) and grade (1–4) weights.
DISABILITY_CATEGORY_WEIGHTS = ((1, 12), (2, 10), (3, 3), (4, 45), (5, 10), (6, 12), (7, 8))
DISABILITY_GRADE_WEIGHTS = ((1, 10), (2, 20), (3, 30), (4, 40))

# Where migrant workers work (务工地点): far away, in the province, or near home.
WORK_PLACES_AWAY = (
    "浙江省宁波市", "浙江省温州市", "广东省东莞市", "广东省深圳市", "福建省泉州市", "江苏省苏州市",
    "上海市", "广东省佛山市", "云南省昆明市", "重庆市",
)  # fmt: skip
WORK_PLACES_PROVINCE = ("贵州省贵阳市", "贵州省毕节市", "贵州省遵义市", "贵州省六盘水市")

# (bank, card BIN): accounts are BIN + 13 digits, like the 19-digit debit cards used for transfers.
BANKS = (
    ("贵州省农村信用社", "621779"),
    ("中国农业银行", "622848"),
    ("中国邮政储蓄银行", "621799"),
    ("中国建设银行", "621700"),
)

MOBILE_PREFIXES = (
    "138", "139", "158", "159", "187", "188", "135", "136", "151", "152", "182", "183",
    "133", "153", "177", "180", "181", "189", "130", "131", "132", "155", "156",
)  # fmt: skip

CITY_NAMES = {
    "5201": "贵阳市",
    "5202": "六盘水市",
    "5203": "遵义市",
    "5204": "安顺市",
    "5205": "毕节市",
    "5206": "铜仁市",
    "5223": "黔西南布依族苗族自治州",
    "5226": "黔东南苗族侗族自治州",
    "5227": "黔南布依族苗族自治州",
}

# 监测范围 (yuan per person per year) for the province, and the national poverty line (国家扶贫标准
# at current prices). Illustrative values in the range the provinces used; the administrator edits them.
MONITORING_LINES = {
    2021: (6000, 4300),
    2022: (6300, 4400),
    2023: (6600, 4500),
    2024: (6900, 4600),
    2025: (7200, 4700),
    2026: (7500, 4800),
}
