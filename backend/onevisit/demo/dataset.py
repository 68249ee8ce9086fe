"""A deterministic demo data set for one prefecture, 洛阳市: departments, matters (一单) and the
two directories (两库: subjects, inspectors), plus demo users.

Pure and stdlib only: no I/O, no database, no network. Every random choice comes from one
`random.Random(20261125)` created per build, sets are only used for membership tests, so the
data set is identical across runs, processes and hash seeds. `build_demo_dataset()` is cached.

The matter catalogue lives in `onevisit.demo.catalogue`; the tables below describe the
prefecture (regions, roads, towns) and the shape of its market (industries, names).
"""

from __future__ import annotations

__all__ = [
    "CREDIT_WEIGHTS",
    "REGIONS",
    "SUBJECT_COUNTS",
    "DemoCheckItem",
    "DemoDataset",
    "DemoDepartment",
    "DemoInspector",
    "DemoMatter",
    "DemoSubject",
    "DemoUser",
    "build_demo_dataset",
]

import datetime
import functools
import random
from dataclasses import dataclass

from onevisit.demo.catalogue import DEPARTMENTS, MATTERS
from onevisit.directory.uscc import USCC_ALPHABET, make_uscc

SEED = 20261125
METHODS = ("on_site", "documentary", "online", "commissioned")


@dataclass(frozen=True, slots=True)
class DemoDepartment:
    code: str
    name: str
    partners: tuple[str, ...]  # partner department codes, in fallback order


@dataclass(frozen=True, slots=True)
class DemoCheckItem:
    text: str
    basis: str


@dataclass(frozen=True, slots=True)
class DemoMatter:
    code: str
    department: str
    name: str
    category: str  # "key" | "general"
    ratio_cap: str | None  # decimal string for general matters, None for key ones
    basis: str
    content: str
    methods: tuple[str, ...]  # subset of METHODS, in METHODS order
    subject_kinds: tuple[str, ...]
    items: tuple[DemoCheckItem, ...]


@dataclass(frozen=True, slots=True)
class DemoSubject:
    subject_id: str
    name: str
    kind: str  # enterprise|individual|cooperative|organisation|product|project|behaviour
    address: str
    lat_e6: int | None
    lon_e6: int | None
    industry_code: str
    region_code: str
    credit_class: str  # A..D
    abnormal: bool
    serious_violation: bool
    last_inspected: datetime.date | None
    legal_representative: str
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoInspector:
    code: str
    name: str
    department: str
    certificate_no: str
    post: str
    expertise: tuple[str, ...]
    active: bool
    conflicts: tuple[str, ...]  # subject_ids


@dataclass(frozen=True, slots=True)
class DemoUser:
    name: str
    role: str  # admin|coordinator|leader|inspector
    department: str | None
    inspector_code: str | None


@dataclass(frozen=True, slots=True)
class DemoDataset:
    departments: tuple[DemoDepartment, ...]
    matters: tuple[DemoMatter, ...]
    subjects: tuple[DemoSubject, ...]
    inspectors: tuple[DemoInspector, ...]
    users: tuple[DemoUser, ...]


# ---- the prefecture -----------------------------------------------------------------------

CITY_CODE = "410300"
# Luoyang's bounding box in micro-degrees (lat 33.6–35.1, lon 111.1–112.98).
LAT_RANGE = (33_600_000, 35_100_000)
LON_RANGE = (111_100_000, 112_980_000)

# (code, name, weight, centre lat, centre lon, spread in degrees, roads, towns)
REGIONS: tuple[tuple[str, str, int, float, float, float, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "410302",
        "老城区",
        6,
        34.683,
        112.469,
        0.02,
        ("中州东路", "西大街", "东大街", "九都东路", "民主街", "唐宫东路"),
        (),
    ),
    (
        "410303",
        "西工区",
        10,
        34.662,
        112.428,
        0.025,
        ("中州中路", "凯旋路", "唐宫中路", "纱厂南路", "道北路", "九都西路"),
        (),
    ),
    (
        "410304",
        "瀍河回族区",
        5,
        34.690,
        112.505,
        0.02,
        ("启明南路", "东关大街", "环城北路", "下园路", "机车工厂路"),
        (),
    ),
    (
        "410305",
        "涧西区",
        12,
        34.656,
        112.396,
        0.025,
        ("建设路", "景华路", "南昌路", "长安路", "青岛路", "天津路", "武汉路"),
        (),
    ),
    (
        "410307",
        "偃师区",
        8,
        34.727,
        112.789,
        0.06,
        ("槐新路", "商都路", "华夏路", "首阳山大道", "伊洛路"),
        ("首阳山街道", "缑氏镇", "府店镇", "诸葛镇", "翟镇镇", "邙岭镇"),
    ),
    (
        "410308",
        "孟津区",
        7,
        34.790,
        112.445,
        0.06,
        ("朝阳大道", "会盟大道", "黄河路", "河洛路", "银河路"),
        ("会盟镇", "白鹤镇", "平乐镇", "朝阳镇", "常袋镇", "横水镇"),
    ),
    (
        "410311",
        "洛龙区",
        16,
        34.619,
        112.464,
        0.035,
        ("开元大道", "王城大道", "古城路", "龙门大道", "关林路", "太康路", "学子街"),
        (),
    ),
    (
        "410323",
        "新安县",
        5,
        34.728,
        112.132,
        0.06,
        ("函谷路", "新城大道", "洛新路", "涧河路"),
        ("城关镇", "铁门镇", "石寺镇", "磁涧镇", "五头镇"),
    ),
    (
        "410324",
        "栾川县",
        4,
        33.786,
        111.615,
        0.07,
        ("伊河路", "君山路", "老君山路", "城东路"),
        ("城关镇", "赤土店镇", "冷水镇", "陶湾镇", "合峪镇", "庙子镇"),
    ),
    (
        "410325",
        "嵩县",
        4,
        34.134,
        112.085,
        0.07,
        ("伏牛路", "陆浑路", "嵩州大道", "车站街"),
        ("城关镇", "田湖镇", "车村镇", "旧县镇", "德亭镇"),
    ),
    (
        "410326",
        "汝阳县",
        4,
        34.154,
        112.473,
        0.06,
        ("杜康大道", "紫罗山路", "滨河路", "汝阳大道"),
        ("城关镇", "上店镇", "蔡店乡", "付店镇", "小店镇"),
    ),
    (
        "410327",
        "宜阳县",
        5,
        34.515,
        112.179,
        0.06,
        ("锦屏路", "香鹿山路", "宜阳大道", "韩城路"),
        ("城关镇", "柳泉镇", "韩城镇", "张坞镇", "三乡镇"),
    ),
    (
        "410328",
        "洛宁县",
        4,
        34.389,
        111.653,
        0.07,
        ("永宁大道", "中心街", "洛河路", "兴华路"),
        ("城关镇", "长水镇", "河底镇", "赵村镇", "兴华镇"),
    ),
    (
        "410329",
        "伊川县",
        6,
        34.421,
        112.426,
        0.06,
        ("伊川大道", "鸣皋路", "滨河路", "平等路"),
        ("城关街道", "鸣皋镇", "白沙镇", "彭婆镇", "吕店镇"),
    ),
)
_REGION = {r[0]: r for r in REGIONS}
_COUNTIES = tuple(r[0] for r in REGIONS if r[7])

# ---- the market: GB/T 4754-2017 industries -----------------------------------------------
# (industry code, enterprise name words, individual shop words, tags, enterprise weight,
#  individual weight, region codes the industry is confined to or ())
PROFILES: tuple[
    tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], int, int, tuple[str, ...]], ...
] = (
    ("F5212", ("商贸", "超市"), ("便利店", "超市", "百货店"), ("食品",), 6, 10, ()),
    ("F5224", ("食品",), ("鲜肉店", "生鲜店", "牛羊肉店"), ("食品",), 1, 5, ()),
    ("F5223", ("果业",), ("水果店", "蔬菜店"), ("食品",), 1, 5, ()),
    ("F5226", ("酒业", "茶业"), ("烟酒店", "茶叶店"), ("食品",), 2, 4, ()),
    ("H6210", ("餐饮管理", "酒店管理"), ("饭店", "酒家", "水席馆", "烩面馆"), ("食品",), 4, 12, ()),
    (
        "H6220",
        ("餐饮",),
        ("面馆", "包子铺", "胡辣汤店", "米线店", "牛肉汤馆"),
        ("食品",),
        2,
        12,
        (),
    ),
    ("H6121", ("酒店", "宾馆"), ("旅馆", "宾馆", "客栈"), ("公共场所",), 3, 4, ()),
    ("O8040", ("美容美发",), ("理发店", "美发店", "美容店"), ("公共场所",), 1, 7, ()),
    ("O8051", ("洗浴服务",), ("浴池",), ("公共场所",), 1, 2, ()),
    (
        "O8111",
        ("汽车服务", "汽车维修"),
        ("汽车修理部", "汽修厂", "轮胎店"),
        ("机动车维修",),
        3,
        5,
        (),
    ),
    ("G5431", ("物流", "运输"), ("货运部",), ("道路运输",), 5, 3, ()),
    ("G5435", ("危险货物运输",), (), ("道路运输", "危化品"), 1, 0, ()),
    ("G5422", ("旅游客运", "客运"), (), ("道路运输",), 1, 0, ()),
    ("P8399", ("驾驶员培训",), (), ("驾培",), 1, 0, ()),
    ("F5265", ("石油销售", "能源"), (), ("危化品",), 2, 0, ()),
    ("F5169", ("化工", "化工贸易"), (), ("危化品",), 2, 0, ()),
    ("F5167", ("农资",), ("农资门市部", "农资店"), ("农资", "农药"), 2, 3, ()),
    ("F5166", ("肥业",), ("化肥经营部",), ("农资", "肥料"), 1, 1, ()),
    ("F5199", ("动物药业", "兽药"), ("兽药店", "兽药经营部"), ("兽药",), 1, 2, ()),
    ("F5112", ("种业",), ("种子门市部",), ("种子",), 1, 1, ()),
    ("F5251", ("大药房", "医药连锁"), ("药店", "大药房"), ("药品",), 2, 3, ()),
    ("F5165", ("建材",), ("建材店", "五金店"), (), 3, 4, ()),
    ("F5232", ("服饰",), ("服装店", "鞋店"), (), 2, 6, ()),
    ("F5261", ("汽车销售",), (), (), 2, 0, ()),
    ("F5391", ("烟花爆竹",), ("烟花爆竹零售点",), ("烟花爆竹",), 1, 1, ()),
    ("C3451", ("轴承",), (), ("工业产品", "特种设备"), 5, 0, ()),
    ("C3511", ("重型机械", "矿山机械"), (), ("特种设备", "工贸"), 4, 0, ()),
    ("C3311", ("钢结构",), (), ("特种设备", "工贸"), 2, 0, ()),
    ("C3011", ("水泥",), (), ("工业产品", "重点排污"), 1, 0, ()),
    ("C3041", ("玻璃",), (), ("重点排污", "工贸"), 1, 0, ()),
    ("C2614", ("化工", "精细化工"), (), ("危化品", "重点排污", "工业产品"), 2, 0, ()),
    ("C3360", ("表面处理", "电镀"), (), ("重点排污", "危险废物"), 1, 0, ()),
    ("C2625", ("生物肥业",), (), ("肥料",), 1, 0, ()),
    ("C1512", ("酒业", "酿酒"), (), ("食品生产",), 2, 0, ("410326", "410329", "410311")),
    ("C1431", ("食品",), (), ("食品生产",), 2, 0, ()),
    ("C1391", ("淀粉",), (), ("食品生产",), 1, 0, ()),
    ("C2922", ("塑业", "管业"), (), ("工业产品",), 2, 0, ()),
    ("C3831", ("电缆", "线缆"), (), ("工业产品",), 2, 0, ()),
    ("B0951", ("钼业", "矿业"), (), ("非煤矿山", "重点排污"), 2, 0, ("410324", "410325")),
    ("B0941", ("黄金矿业", "矿业"), (), ("非煤矿山",), 1, 0, ("410325", "410328", "410324")),
    ("B1011", ("石料", "建材"), (), ("非煤矿山",), 1, 0, _COUNTIES),
    ("R9011", ("娱乐", "文化娱乐"), ("KTV",), ("娱乐场所",), 2, 1, ()),
    ("R9013", ("网络会所", "网咖"), ("网吧",), ("网吧",), 1, 2, ()),
    ("L7291", ("国际旅行社", "旅行社"), (), ("旅行社",), 2, 0, ()),
    ("N7861", ("旅游开发", "景区管理"), (), ("A级景区",), 1, 0, _COUNTIES),
    ("R8810", ("文化传媒", "演艺"), (), ("演出",), 1, 0, ()),
    ("Q8425", ("门诊部",), ("诊所", "口腔诊所", "中医诊所"), ("医疗机构",), 1, 3, ()),
    ("Q8415", ("医院",), (), ("医疗机构",), 1, 0, ()),
    ("D4610", ("供水",), (), ("供水",), 1, 0, ()),
    ("K7020", ("物业服务",), (), ("特种设备",), 3, 0, ()),
    ("E4812", ("路桥工程", "建设工程"), (), ("工程建设",), 2, 0, ()),
    ("M7452", ("检测技术",), (), ("机动车检验",), 1, 0, ()),
    ("I6513", ("科技", "信息技术", "网络科技"), (), (), 4, 0, ()),
    ("L7251", ("广告", "文化传播"), ("广告部", "图文快印店"), ("广告",), 3, 2, ()),
    ("A0151", ("农业开发", "生态农业"), (), ("农产品",), 2, 0, _COUNTIES),
    ("A0313", ("牧业", "养殖"), (), ("农产品", "畜禽养殖"), 1, 0, _COUNTIES),
)

SUBJECT_COUNTS = {
    "enterprise": 1050,
    "individual": 760,
    "cooperative": 80,
    "organisation": 60,
    "product": 25,
    "project": 15,
    "behaviour": 10,
}
CREDIT_WEIGHTS = {"A": 30, "B": 50, "C": 15, "D": 5}
# (probability of 经营异常名录, of 严重违法失信名单) per credit class
_FLAG_ODDS = {"A": (0.0, 0.0), "B": (0.01, 0.0), "C": (0.18, 0.03), "D": (0.45, 0.25)}

BRAND_A = tuple("瑞宏鑫恒华金聚永德中河洛伊嵩天汇隆博润锦万豫九周龙丰盛福新东")
BRAND_B = tuple("丰达源信泰鼎盛润和通兴远泽华洲阳诚创佳安康祥顺茂晟宇")
SURNAMES = tuple(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许"
    "傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭邹金郝孔白"
    "崔康毛秦史侯邵孟段雷汤尹常武乔贺"
)
_COMMON_SURNAMES = SURNAMES[:20] * 3 + SURNAMES  # the twenty commonest are four times as likely
GIVEN_MALE = tuple("建国军伟强磊洋勇杰涛明超刚志新海波宁俊鹏飞凯浩宇轩博文振东利民华平斌")
GIVEN_FEMALE = tuple("敏静丽艳娟秀霞桂英芳红玉兰晓春雪梅佳琳欣怡涵雅婷慧娜燕萍丹")
# Names (and brands) that the pools above could produce but that belong to well-known people or
# companies; the generator skips them.
NOTABLE = frozenset(
    {
        "杨振宁",
        "王俊凯",
        "刘强东",
        "王志文",
        "杨利伟",
        "李国华",
        "张国强",
        "中信",
        "中华",
        "中兴",
        "中通",
        "华泰",
        "新华",
        "华润",
        "万达",
        "恒达",
    }
)

POSTS = (
    ("科员", 6),
    ("一级科员", 4),
    ("四级主任科员", 3),
    ("执法队员", 5),
    ("副科长", 2),
    ("科长", 1),
    ("副大队长", 1),
)
EXPERTISE = {
    "scjg": ("食品安全", "特种设备", "工业产品质量", "计量", "广告监管", "企业信息公示", "药品"),
    "sthj": ("大气污染防治", "水污染防治", "固体废物", "环评管理", "自动监控"),
    "jtys": ("道路运输", "机动车维修", "危险货物运输", "工程质量", "驾培管理"),
    "nync": ("农药", "兽药", "种子", "农产品质量安全", "肥料"),
    "whly": ("文化市场", "旅游市场", "网络文化", "演出市场"),
    "wsjk": ("公共场所卫生", "医疗执业", "生活饮用水", "职业卫生", "学校卫生"),
    "yjgl": ("危险化学品", "非煤矿山", "工贸安全", "烟花爆竹", "安全培训"),
    "swj": ("发票管理", "纳税评估", "税务稽查", "出口退税"),
}
INSPECTOR_COUNTS = {
    "scjg": 18,
    "sthj": 6,
    "jtys": 6,
    "nync": 6,
    "whly": 6,
    "wsjk": 6,
    "yjgl": 6,
    "swj": 6,
}

ASSOCIATIONS = (
    "餐饮行业协会",
    "物流协会",
    "旅游协会",
    "汽车维修行业协会",
    "轴承行业协会",
    "个体劳动者协会",
    "酒店业协会",
    "农资行业协会",
)
# (USCC authority, USCC type, industry code, name word, tags); 卫生院 (last) only in a town
ORGANISATIONS = (
    ("5", "2", "P8391", "职业技能培训学校", ("学校",)),
    ("5", "2", "Q8514", "养老院", ("养老机构", "食品")),
    ("5", "2", "P8310", "幼儿园", ("学校", "食品")),
    ("1", "2", "P8321", "小学", ("学校", "食品")),
    ("1", "2", "Q8423", "卫生院", ("医疗机构",)),
)
# (product, industry code, verb) for 农民专业合作社
CROPS = (
    ("葡萄", "A0151", "种植"),
    ("核桃", "A0152", "种植"),
    ("连翘", "A0171", "种植"),
    ("香菇", "A0142", "种植"),
    ("苹果", "A0151", "种植"),
    ("樱桃", "A0151", "种植"),
    ("红薯", "A0122", "种植"),
    ("花椒", "A0169", "种植"),
    ("牡丹", "A0143", "种植"),
    ("金银花", "A0171", "种植"),
    ("生猪", "A0313", "养殖"),
    ("肉牛", "A0311", "养殖"),
    ("山羊", "A0312", "养殖"),
    ("蛋鸡", "A0321", "养殖"),
    ("蜜蜂", "A0399", "养殖"),
)
# (product, industry code, tags) for product subjects (产品抽检)
PRODUCTS = (
    ("电线电缆 BV 2.5mm²", "C3831", ("工业产品",)),
    ("聚乙烯给水管材", "C2922", ("工业产品",)),
    ("电动自行车", "C3770", ("工业产品", "3C认证")),
    ("燃气灶具", "C3855", ("3C认证",)),
    ("复合肥料", "C2624", ("肥料",)),
    ("通用硅酸盐水泥 P·O 42.5", "C3011", ("工业产品",)),
    ("安全帽", "C2919", ("劳动防护用品",)),
    ("挂面", "C1431", ("食品",)),
    ("浓香型白酒", "C1512", ("食品",)),
    ("儿童玩具", "C2452", ("3C认证",)),
    ("深沟球轴承 6205", "C3451", ("工业产品",)),
    ("电热毯", "C3856", ("3C认证",)),
)
# (name template, industry code, tags) for project subjects; {r} region, {t} town, {b} brand
PROJECTS = (
    ("{r}{road}改造提升工程", "E4812", ("建设项目", "公路工程")),
    ("{r}{b}新材料产业园建设项目", "E4710", ("建设项目", "环评")),
    ("{r}{t}污水处理厂提标改造工程", "D4620", ("建设项目", "环评")),
    ("{r}{b}分布式光伏发电项目", "D4416", ("建设项目",)),
    ("{r}{b}年产十万吨钢结构件项目", "C3311", ("建设项目", "环评")),
)
BEHAVIOURS = (
    ("户外广告发布行为（{road}沿线）", "L7251", ("广告",)),
    ("网络直播营销行为（{r}）", "I6432", ("网络交易",)),
    ("预付卡经营行为（{r}健身行业）", "R8930", ("预付卡", "投诉较多")),
    ("明码标价行为（{r}景区周边）", "F5212", ("价格",)),
    ("电动自行车销售行为（{r}）", "F5263", ("产品质量",)),
)


# ---- identifiers --------------------------------------------------------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(rng: random.Random, *, new: bool) -> str:
    """A 9-character organisation code (GB 11714) from the USCC alphabet, with its check."""
    body = (
        "MA" + "".join(rng.choices(USCC_ALPHABET, k=6))
        if new
        else "".join(rng.choices("0123456789", k=8))
    )
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def regno_check_digit(body14: str) -> str:
    """ISO 7064 MOD 11,10 check digit for the first 14 digits of an old registration number."""
    p = 10
    for ch in body14:
        p = ((p + int(ch)) % 10 or 10) * 2 % 11
    return str((11 - p) % 10)


# ---- the builder --------------------------------------------------------------------------


class _Builder:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.ids: set[str] = set()
        self.names: set[str] = set()
        self.people: set[str] = set()

    # -- small helpers
    def weighted(self, pairs):
        values, weights = zip(*pairs, strict=True)
        return self.rng.choices(values, weights=weights)[0]

    def region(self, allowed: tuple[str, ...] = ()) -> tuple:
        rows = [r for r in REGIONS if not allowed or r[0] in allowed]
        return self.rng.choices(rows, weights=[r[2] for r in rows])[0]

    def person(self) -> str:
        """A plain three-character name: a common surname and a two-character given name."""
        while True:
            pool = GIVEN_MALE if self.rng.random() < 0.55 else GIVEN_FEMALE
            name = self.rng.choice(_COMMON_SURNAMES) + "".join(self.rng.sample(pool, 2))
            if name not in NOTABLE:
                return name

    def unique_person(self) -> str:
        name = self.person()
        while name in self.people:
            name = self.person()
        self.people.add(name)
        return name

    def brand(self) -> str:
        """A two-character 字号 such as 瑞丰 or 嵩润."""
        while True:
            brand = self.rng.choice(BRAND_A) + self.rng.choice(BRAND_B)
            if brand not in NOTABLE and brand[0] != brand[1]:
                return brand

    def unique_name(self, make) -> str:
        name = make()
        while name in self.names:
            name = make()
        self.names.add(name)
        return name

    def unique_id(self, make) -> str:
        sid = make()
        while sid in self.ids:
            sid = make()
        self.ids.add(sid)
        return sid

    def uscc(self, authority: str, org_type: str, region: str, *, new: bool) -> str:
        return self.unique_id(
            lambda: make_uscc(authority, org_type, region, _org_code(self.rng, new=new))
        )

    def address(self, region: tuple, *, rural: bool = False, town: str = "") -> str:
        _, name, *_, roads, towns = region
        if rural and towns:
            village = self.rng.choice(SURNAMES[:30]) + self.rng.choice("庄营屯沟岭")
            town = town or self.rng.choice(towns)
            return f"洛阳市{name}{town}{village}村{self.rng.randint(1, 12)}组"
        n = self.rng.randint(1, 380)
        suffix = self.rng.choice(
            ("", "", "", f"{self.rng.randint(1, 12)}号楼", f"附{self.rng.randint(1, 9)}号")
        )
        return f"洛阳市{name}{self.rng.choice(roads)}{n}号{suffix}"

    def location(self, region: tuple) -> tuple[int | None, int | None]:
        if self.rng.random() < 0.04:
            return None, None
        _, _, _, lat, lon, spread, *_ = region
        lat_e6 = round((lat + max(-spread, min(spread, self.rng.gauss(0, spread / 2)))) * 1e6)
        lon_e6 = round((lon + max(-spread, min(spread, self.rng.gauss(0, spread / 2)))) * 1e6)
        return (
            min(max(lat_e6, LAT_RANGE[0]), LAT_RANGE[1]),
            min(max(lon_e6, LON_RANGE[0]), LON_RANGE[1]),
        )

    def last_inspected(self) -> datetime.date | None:
        if self.rng.random() < 0.35:
            return None
        start, end = datetime.date(2022, 1, 4), datetime.date(2026, 11, 20)
        day = start + datetime.timedelta(days=self.rng.randint(0, (end - start).days))
        while day.weekday() >= 5:  # inspections happen on working days
            day -= datetime.timedelta(days=1)
        return day

    def subject(
        self,
        sid: str,
        name: str,
        kind: str,
        region: tuple,
        industry: str,
        rep: str,
        tags: tuple[str, ...],
        *,
        rural: bool = False,
        town: str = "",
        market: bool = True,
    ) -> DemoSubject:
        credit = self.weighted(CREDIT_WEIGHTS.items())
        p_abnormal, p_serious = _FLAG_ODDS[credit] if market else (0.0, 0.0)
        abnormal = self.rng.random() < p_abnormal
        serious = self.rng.random() < p_serious
        extra = ()
        if market and self.rng.random() < 0.03:
            extra = ("投诉较多",)
        lat_e6, lon_e6 = self.location(region)
        return DemoSubject(
            subject_id=sid,
            name=name,
            kind=kind,
            address=self.address(region, rural=rural, town=town),
            lat_e6=lat_e6,
            lon_e6=lon_e6,
            industry_code=industry,
            region_code=region[0],
            credit_class=credit,
            abnormal=abnormal,
            serious_violation=serious,
            last_inspected=self.last_inspected(),
            legal_representative=rep,
            tags=tuple(dict.fromkeys(tags + extra)),
        )

    # -- directories
    def departments(self) -> tuple[DemoDepartment, ...]:
        return tuple(DemoDepartment(code, name, partners) for code, name, partners in DEPARTMENTS)

    def matters(self) -> tuple[DemoMatter, ...]:
        out, seen = [], {}
        for dept, name, category, cap, basis, content, methods, kinds, items in MATTERS:
            seen[dept] = seen.get(dept, 0) + 1
            out.append(
                DemoMatter(
                    code=f"{dept}-{seen[dept]:03d}",
                    department=dept,
                    name=name,
                    category=category,
                    ratio_cap=cap,
                    basis=basis,
                    content=content,
                    methods=tuple(m for m in METHODS if m in methods),
                    subject_kinds=tuple(kinds),
                    items=tuple(DemoCheckItem(text, item_basis) for text, item_basis in items),
                )
            )
        return tuple(out)

    def enterprise(self) -> DemoSubject:
        profile = self.rng.choices(PROFILES, weights=[p[4] for p in PROFILES])[0]
        industry, words, _, tags, _, _, regions = profile
        region = self.region(regions)
        prefix = (
            region[1]
            if region[0] in _COUNTIES and self.rng.random() < 0.5
            else self.rng.choice(("洛阳", "洛阳市"))
        )
        form = self.weighted((("有限公司", 85), ("有限责任公司", 10), ("股份有限公司", 5)))
        name = self.unique_name(lambda: f"{prefix}{self.brand()}{self.rng.choice(words)}{form}")
        reg = CITY_CODE if self.rng.random() < 0.3 else region[0]
        sid = self.uscc("9", "1", reg, new=self.rng.random() < 0.55)
        extra = ("连锁",) if industry in ("F5212", "F5251") and self.rng.random() < 0.2 else ()
        return self.subject(
            sid,
            name,
            "enterprise",
            region,
            industry,
            self.person(),
            tags + extra,
            rural=industry[0] in "AB",
        )

    def individual(self) -> DemoSubject:
        profile = self.rng.choices(PROFILES, weights=[p[5] for p in PROFILES])[0]
        industry, _, words, tags, _, _, regions = profile
        region = self.region(regions)
        rep = self.person()
        surname, given = rep[0], rep[1:]

        def make() -> str:
            shop = self.rng.choice(words)
            style = self.rng.randrange(4)
            if style == 0:
                return f"{region[1]}{surname}记{shop}"
            if style == 1:
                return f"{region[1]}老{surname}家{shop}"
            if style == 2 and len(given) == 2:
                return f"{region[1]}{given}{shop}"
            return f"{region[1]}{self.brand()}{shop}"

        name = self.unique_name(make)
        if self.rng.random() < 0.05:  # an old 15-digit registration number, never re-issued

            def regno() -> str:
                body = region[0] + "6" + "".join(self.rng.choices("0123456789", k=7))
                return body + regno_check_digit(body)

            sid = self.unique_id(regno)
        else:
            sid = self.uscc("9", "2", region[0], new=True)
        return self.subject(sid, name, "individual", region, industry, rep, tags)

    def cooperative(self) -> DemoSubject:
        region = self.region(_COUNTIES)
        crop, industry, verb = self.rng.choice(CROPS)
        town = self.rng.choice(region[7])
        name = self.unique_name(lambda: f"{region[1]}{town}{self.brand()}{crop}{verb}专业合作社")
        sid = self.uscc("9", "3", region[0], new=True)
        tags = ("农产品", "畜禽养殖") if verb == "养殖" else ("农产品",)
        return self.subject(
            sid, name, "cooperative", region, industry, self.person(), tags, rural=True, town=town
        )

    def organisation(self, n: int) -> DemoSubject:
        if n < len(ASSOCIATIONS):  # 社会团体, registered with the city's civil affairs bureau
            region, authority, industry = _REGION["410311"], ("5", "1"), "S9522"
            name, tags = f"洛阳市{ASSOCIATIONS[n]}", ()
        while n >= len(ASSOCIATIONS):
            region = self.region()
            town = self.rng.choice(region[7]) if region[7] else ""
            kinds = ORGANISATIONS if town else ORGANISATIONS[:-1]
            a, t, industry, word, tags = self.rng.choice(kinds)
            authority = (a, t)
            if word == "卫生院":
                name = f"{region[1]}{town}卫生院"
            elif word == "小学":
                name = (
                    f"{region[1]}{town}中心小学"
                    if town
                    else f"{region[1]}第{self.rng.choice('一二三四五六')}实验小学"
                )
            else:
                name = f"{region[1]}{self.brand()}{word}"
            if name not in self.names:
                break
        self.names.add(name)
        sid = self.uscc(*authority, region[0], new=self.rng.random() < 0.5)
        return self.subject(sid, name, "organisation", region, industry, self.person(), tags)

    def thing(self, kind: str, n: int) -> DemoSubject:
        table = {"product": PRODUCTS, "project": PROJECTS, "behaviour": BEHAVIOURS}[kind]
        prefix = {"product": "CP", "project": "XM", "behaviour": "XW"}[kind]
        while True:
            region = self.region()
            fill = {
                "r": region[1],
                "road": self.rng.choice(region[6]),
                "b": self.brand(),
                "t": self.rng.choice(region[7]) if region[7] else "城区",
            }
            if kind == "product":
                product, industry, tags = self.rng.choice(table)
                batch = f"{self.rng.randint(1, 10):02d}{self.rng.randint(1, 28):02d}{n:02d}"
                name, tags = f"{fill['b']}牌{product}（批次2026{batch}）", ("产品质量", *tags)
            else:
                template, industry, tags = table[(n - 1) % len(table)]
                name = template.format(**fill)
            if name not in self.names:
                break
        self.names.add(name)
        sid = f"{prefix}-2026-{n:04d}"
        self.ids.add(sid)
        return self.subject(sid, name, kind, region, industry, self.person(), tags, market=False)

    def subjects(self) -> tuple[DemoSubject, ...]:
        out: list[DemoSubject] = []
        out += [self.enterprise() for _ in range(SUBJECT_COUNTS["enterprise"])]
        out += [self.individual() for _ in range(SUBJECT_COUNTS["individual"])]
        out += [self.cooperative() for _ in range(SUBJECT_COUNTS["cooperative"])]
        out += [self.organisation(n) for n in range(SUBJECT_COUNTS["organisation"])]
        for kind in ("product", "project", "behaviour"):
            out += [self.thing(kind, n) for n in range(1, SUBJECT_COUNTS[kind] + 1)]
        return tuple(out)

    def inspectors(self, subjects: tuple[DemoSubject, ...]) -> tuple[DemoInspector, ...]:
        firms = [s.subject_id for s in subjects if s.kind in ("enterprise", "individual")]
        inactive = {"scjg-i17", "jtys-i06"}
        with_conflicts = {"scjg-i04", "scjg-i09", "scjg-i13", "sthj-i03", "wsjk-i05", "nync-i02"}
        certificates: set[str] = set()
        out = []
        for index, (dept, _, _) in enumerate(DEPARTMENTS, start=1):
            for n in range(1, INSPECTOR_COUNTS[dept] + 1):
                code = f"{dept}-i{n:02d}"
                cert = f"豫A4103{index:02d}{self.rng.randint(10000, 99999)}"
                while cert in certificates:
                    cert = f"豫A4103{index:02d}{self.rng.randint(10000, 99999)}"
                certificates.add(cert)
                pool = EXPERTISE[dept]
                picked = set(self.rng.sample(pool, self.rng.randint(1, 3)))
                conflicts = (
                    tuple(self.rng.sample(firms, self.rng.randint(1, 2)))
                    if code in with_conflicts
                    else ()
                )
                out.append(
                    DemoInspector(
                        code=code,
                        name=self.unique_person(),
                        department=dept,
                        certificate_no=cert,
                        post="副科长" if n == 1 else self.weighted(POSTS),
                        expertise=tuple(e for e in pool if e in picked),
                        active=code not in inactive,
                        conflicts=conflicts,
                    )
                )
        return tuple(out)

    def users(self, inspectors: tuple[DemoInspector, ...]) -> tuple[DemoUser, ...]:
        by_code = {i.code: i for i in inspectors}
        out = [DemoUser("演示管理员", "admin", None, None)]
        out += [
            DemoUser(self.unique_person(), "coordinator", dept, None) for dept, _, _ in DEPARTMENTS
        ]
        leader = by_code["scjg-i01"]
        out.append(DemoUser(leader.name, "leader", leader.department, leader.code))
        for code in (
            "scjg-i02",
            "scjg-i03",
            "sthj-i01",
            "jtys-i01",
            "nync-i01",
            "whly-i01",
            "wsjk-i01",
            "yjgl-i01",
            "swj-i01",
        ):
            inspector = by_code[code]
            out.append(DemoUser(inspector.name, "inspector", inspector.department, code))
        return tuple(out)

    def build(self) -> DemoDataset:
        subjects = self.subjects()
        inspectors = self.inspectors(subjects)
        return DemoDataset(
            departments=self.departments(),
            matters=self.matters(),
            subjects=subjects,
            inspectors=inspectors,
            users=self.users(inspectors),
        )


@functools.cache
def build_demo_dataset() -> DemoDataset:
    """The demo data set for 洛阳市; identical on every call, process and machine."""
    return _Builder().build()
