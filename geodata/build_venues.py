"""Build geodata/venues.geojson: 2,621 DEMONSTRATION worker service venues.

This is generated data, not the real register. It matches the Hainan
Federation of Trade Unions' published totals per category exactly, spreads the
venues over the 26 districts by population and urbanisation, places them around
real town centres (every point inside the polygon of the district it names),
and includes the few venues the union's published report names.

Every venue is then checked against the shoreline (``land.geojson``) and its
land-clipped district (``districts_land.geojson``); the ones that lie off it
(at sea in Amap's generous polygons, or in a river mouth GSHHG draws as sea)
are moved onto land in their district and nothing else about them changes:
see :func:`onto_land`. Venues that are on land keep exactly the position the
generator drew, so other venues (downtown Haikou's, which browser tests use)
do not move.

Run from the repository root, after build_districts.py, build_land.py and
build_districts_land.py::

    .venv/bin/python geodata/build_venues.py --seed 2621

Same seed, same bytes: one ``random.Random(seed)`` drives everything, and every
loop runs over sorted or fixed-order data; each moved venue draws from its own
``random.Random(f"{seed}:{id}")``, so moving one never changes another.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.ops import nearest_points

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from geodata.build_districts import feature_collection_text, largest_remainder, write_atomic  # noqa: E402
from locator.categories import AMENITIES, CATEGORY_CODES, PUBLISHED_COUNTS  # noqa: E402
from locator.geo import ecef  # noqa: E402

DEFAULT_SEED = 2621
DEFAULT_DISTRICTS = ROOT / "geodata" / "districts.geojson"
DEFAULT_OUTPUT = ROOT / "geodata" / "venues.geojson"
DEFAULT_LAND = ROOT / "geodata" / "land.geojson"
DEFAULT_DISTRICTS_LAND = ROOT / "geodata" / "districts_land.geojson"
#: A venue off land is moved near the point of its district this far inland (about 150 m) ...
INLAND_DEG = 0.0015
#: ... and kept only at least this far inland (about 50 m), so a slightly different shoreline agrees.
MARGIN_DEG = 0.0005
MOVED_SIGMA_KM = 0.15
#: Browser tests use the venues nearest to downtown Haikou: none within this many metres may move.
DOWNTOWN_HAIKOU = (110.33, 20.03)
DOWNTOWN_KEEP_M = 3000.0
MIN_SPACING_M = 32.0  # ECEF chord; a small margin over the 30 m the tests demand

ABBR = {
    "workers_home": "WH",
    "reading_room": "RR",
    "service_center": "SC",
    "outdoor_station": "OS",
    "innovation_studio": "IS",
    "other": "OT",
}

# ---------------------------------------------------------------------------
# Places. The first town of each district is its seat. Coordinates are
# approximate WGS-84 town centres; any that fall outside the district polygon
# are snapped inside it at run time (and reported).
# ---------------------------------------------------------------------------

Town = tuple[str, float, float]

# fmt: off
TOWNS: dict[str, list[Town]] = {
    "460105": [  # 秀英区
        ("秀英街道", 110.282, 20.012), ("海秀街道", 110.300, 20.020), ("长流镇", 110.196, 19.990),
        ("西秀镇", 110.240, 20.020), ("海秀镇", 110.275, 19.975), ("石山镇", 110.200, 19.935),
        ("永兴镇", 110.240, 19.840), ("东山镇", 110.270, 19.760),
    ],
    "460106": [  # 龙华区
        ("金贸街道", 110.318, 20.023), ("大同街道", 110.336, 20.033), ("海垦街道", 110.325, 20.015),
        ("滨海街道", 110.315, 20.036), ("中山街道", 110.343, 20.043), ("金宇街道", 110.330, 20.000),
        ("城西镇", 110.330, 19.985), ("龙桥镇", 110.290, 19.910), ("新坡镇", 110.370, 19.800),
        ("遵谭镇", 110.280, 19.820), ("龙泉镇", 110.340, 19.860),
    ],
    "460107": [  # 琼山区
        ("府城街道", 110.350, 20.000), ("滨江街道", 110.372, 20.008), ("国兴街道", 110.360, 20.015),
        ("凤翔街道", 110.360, 19.990), ("龙塘镇", 110.410, 19.960), ("云龙镇", 110.500, 19.800),
        ("红旗镇", 110.530, 19.870), ("三门坡镇", 110.560, 19.680), ("大坡镇", 110.470, 19.650),
        ("甲子镇", 110.560, 19.620), ("旧州镇", 110.430, 19.770),
    ],
    "460108": [  # 美兰区
        ("海府街道", 110.350, 20.030), ("博爱街道", 110.347, 20.049), ("和平南街道", 110.356, 20.044),
        ("白龙街道", 110.366, 20.038), ("蓝天街道", 110.357, 20.030), ("人民路街道", 110.330, 20.058),
        ("白沙街道", 110.340, 20.065), ("新埠街道", 110.372, 20.062), ("灵山镇", 110.450, 19.990),
        ("演丰镇", 110.560, 19.990), ("三江镇", 110.610, 19.910), ("大致坡镇", 110.620, 19.830),
    ],
    "460202": [  # 海棠区
        ("海棠湾", 109.735, 18.330), ("林旺", 109.720, 18.360), ("藤桥", 109.745, 18.405),
        ("龙江", 109.690, 18.420), ("湾坡", 109.760, 18.300),
    ],
    "460203": [  # 吉阳区
        ("河东", 109.515, 18.253), ("大东海", 109.530, 18.225), ("亚龙湾", 109.630, 18.235),
        ("田独", 109.580, 18.290), ("红沙", 109.545, 18.240), ("月川", 109.510, 18.270),
        ("荔枝沟", 109.545, 18.290),
    ],
    "460204": [  # 天涯区
        ("河西", 109.500, 18.250), ("三亚湾", 109.470, 18.280), ("凤凰", 109.430, 18.300),
        ("天涯", 109.360, 18.300), ("育才", 109.370, 18.470), ("羊栏", 109.460, 18.330),
        ("高峰", 109.400, 18.400),
    ],
    "460205": [  # 崖州区
        ("崖城", 109.175, 18.360), ("崖州湾科技城", 109.185, 18.320), ("梅山", 109.060, 18.390),
        ("南山", 109.200, 18.300), ("保港", 109.150, 18.330),
    ],
    "460301": [("永兴岛", 112.338, 16.835)],  # 西沙区
    "460302": [("永暑礁", 112.888, 9.548)],  # 南沙区
    "460400": [  # 儋州市
        ("那大镇", 109.578, 19.518), ("洋浦经济开发区", 109.200, 19.730), ("白马井镇", 109.225, 19.705),
        ("南丰镇", 109.560, 19.400), ("和庆镇", 109.700, 19.530), ("大成镇", 109.320, 19.440),
        ("雅星镇", 109.370, 19.460), ("兰洋镇", 109.650, 19.450), ("光村镇", 109.470, 19.840),
        ("木棠镇", 109.340, 19.840), ("海头镇", 108.960, 19.500), ("峨蔓镇", 109.280, 19.850),
        ("王五镇", 109.280, 19.650), ("中和镇", 109.360, 19.770), ("排浦镇", 109.160, 19.650),
        ("东成镇", 109.460, 19.700), ("新州镇", 109.300, 19.700),
    ],
    "469001": [  # 五指山市
        ("通什镇", 109.517, 18.776), ("南圣镇", 109.620, 18.840), ("毛阳镇", 109.500, 18.940),
        ("番阳镇", 109.420, 18.900), ("畅好乡", 109.450, 18.700), ("毛道乡", 109.420, 18.800),
        ("水满乡", 109.650, 18.880),
    ],
    "469002": [  # 琼海市
        ("嘉积镇", 110.470, 19.240), ("万泉镇", 110.410, 19.220), ("石壁镇", 110.310, 19.170),
        ("中原镇", 110.470, 19.150), ("博鳌镇", 110.580, 19.160), ("阳江镇", 110.350, 19.090),
        ("龙江镇", 110.320, 19.140), ("潭门镇", 110.630, 19.240), ("塔洋镇", 110.510, 19.300),
        ("长坡镇", 110.580, 19.340), ("大路镇", 110.480, 19.400), ("会山镇", 110.250, 19.080),
    ],
    "469005": [  # 文昌市
        ("文城镇", 110.800, 19.550), ("清澜", 110.830, 19.560), ("重兴镇", 110.680, 19.420),
        ("蓬莱镇", 110.500, 19.500), ("会文镇", 110.720, 19.450), ("东路镇", 110.680, 19.750),
        ("潭牛镇", 110.720, 19.700), ("东阁镇", 110.850, 19.690), ("文教镇", 110.930, 19.660),
        ("东郊镇", 110.920, 19.550), ("龙楼镇", 110.990, 19.660), ("昌洒镇", 110.930, 19.840),
        ("翁田镇", 110.900, 19.930), ("抱罗镇", 110.780, 19.830), ("冯坡镇", 110.790, 19.990),
        ("锦山镇", 110.700, 20.050), ("铺前镇", 110.580, 20.020), ("公坡镇", 110.790, 19.870),
    ],
    "469006": [  # 万宁市
        ("万城镇", 110.390, 18.800), ("兴隆", 110.190, 18.740), ("龙滚镇", 110.510, 19.050),
        ("和乐镇", 110.450, 18.930), ("后安镇", 110.410, 18.880), ("大茂镇", 110.350, 18.860),
        ("东澳镇", 110.430, 18.680), ("礼纪镇", 110.310, 18.750), ("长丰镇", 110.270, 18.800),
        ("山根镇", 110.460, 19.000), ("北大镇", 110.300, 18.950), ("南桥镇", 110.170, 18.680),
        ("三更罗镇", 110.190, 18.940),
    ],
    "469007": [  # 东方市
        ("八所镇", 108.650, 19.100), ("东河镇", 108.980, 19.050), ("大田镇", 108.800, 19.100),
        ("感城镇", 108.700, 18.850), ("板桥镇", 108.690, 18.790), ("三家镇", 108.780, 19.240),
        ("四更镇", 108.710, 19.230), ("新龙镇", 108.700, 18.950), ("天安乡", 108.980, 18.870),
        ("江边乡", 109.050, 18.900),
    ],
    "469021": [  # 定安县
        ("定城镇", 110.350, 19.690), ("新竹镇", 110.210, 19.630), ("龙湖镇", 110.390, 19.600),
        ("黄竹镇", 110.480, 19.480), ("雷鸣镇", 110.290, 19.550), ("龙门镇", 110.330, 19.430),
        ("龙河镇", 110.240, 19.390), ("岭口镇", 110.280, 19.330), ("翰林镇", 110.300, 19.270),
        ("富文镇", 110.260, 19.580),
    ],
    "469022": [  # 屯昌县
        ("屯城镇", 110.100, 19.360), ("新兴镇", 110.130, 19.550), ("枫木镇", 109.980, 19.220),
        ("乌坡镇", 110.030, 19.200), ("南吕镇", 110.080, 19.250), ("南坤镇", 109.930, 19.370),
        ("坡心镇", 110.180, 19.410), ("西昌镇", 110.050, 19.470),
    ],
    "469023": [  # 澄迈县
        ("金江镇", 110.010, 19.740), ("老城镇", 110.130, 19.940), ("大丰镇", 110.060, 19.790),
        ("瑞溪镇", 110.090, 19.630), ("永发镇", 110.230, 19.670), ("加乐镇", 109.970, 19.600),
        ("文儒镇", 110.110, 19.570), ("中兴镇", 109.860, 19.610), ("仁兴镇", 109.820, 19.480),
        ("福山镇", 109.930, 19.830), ("桥头镇", 109.950, 19.950),
    ],
    "469024": [  # 临高县
        ("临城镇", 109.690, 19.910), ("波莲镇", 109.640, 19.830), ("东英镇", 109.630, 19.970),
        ("博厚镇", 109.740, 19.880), ("皇桐镇", 109.820, 19.820), ("多文镇", 109.710, 19.720),
        ("和舍镇", 109.720, 19.620), ("南宝镇", 109.580, 19.720), ("新盈镇", 109.550, 19.890),
        ("调楼镇", 109.610, 19.960), ("加来镇", 109.530, 19.710),
    ],
    "469025": [  # 白沙黎族自治县
        ("牙叉镇", 109.450, 19.220), ("七坊镇", 109.240, 19.290), ("邦溪镇", 109.100, 19.370),
        ("打安镇", 109.400, 19.390), ("细水乡", 109.540, 19.200), ("元门乡", 109.450, 19.120),
        ("南开乡", 109.400, 19.050), ("阜龙乡", 109.550, 19.330), ("青松乡", 109.330, 19.050),
        ("金波乡", 109.170, 19.260), ("荣邦乡", 109.150, 19.420),
    ],
    "469026": [  # 昌江黎族自治县
        ("石碌镇", 109.050, 19.270), ("叉河镇", 108.980, 19.250), ("十月田镇", 108.930, 19.320),
        ("乌烈镇", 108.800, 19.370), ("昌化镇", 108.690, 19.330), ("海尾镇", 108.820, 19.440),
        ("七叉镇", 109.050, 19.100), ("王下乡", 109.120, 19.000),
    ],
    "469027": [  # 乐东黎族自治县
        ("抱由镇", 109.170, 18.740), ("万冲镇", 109.330, 18.850), ("大安镇", 109.220, 18.710),
        ("志仲镇", 109.270, 18.630), ("千家镇", 109.080, 18.630), ("九所镇", 108.960, 18.450),
        ("利国镇", 108.880, 18.500), ("黄流镇", 108.800, 18.510), ("佛罗镇", 108.720, 18.580),
        ("尖峰镇", 108.790, 18.660), ("莺歌海镇", 108.700, 18.510),
    ],
    "469028": [  # 陵水黎族自治县
        ("椰林镇", 110.040, 18.510), ("光坡镇", 110.050, 18.550), ("三才镇", 109.980, 18.480),
        ("英州镇", 109.850, 18.430), ("隆广镇", 109.880, 18.500), ("文罗镇", 109.930, 18.580),
        ("本号镇", 109.850, 18.620), ("新村镇", 110.000, 18.420), ("黎安镇", 110.060, 18.430),
        ("提蒙乡", 109.950, 18.640), ("群英乡", 109.800, 18.560),
    ],
    "469029": [  # 保亭黎族苗族自治县
        ("保城镇", 109.700, 18.640), ("什玲镇", 109.780, 18.640), ("加茂镇", 109.720, 18.530),
        ("响水镇", 109.600, 18.580), ("新政镇", 109.560, 18.550), ("三道镇", 109.650, 18.470),
        ("六弓乡", 109.780, 18.550), ("南林乡", 109.550, 18.400), ("毛感乡", 109.500, 18.600),
    ],
    "469030": [  # 琼中黎族苗族自治县
        ("营根镇", 109.840, 19.030), ("湾岭镇", 109.940, 19.160), ("黎母山镇", 109.750, 19.200),
        ("和平镇", 109.900, 18.880), ("长征镇", 109.950, 18.950), ("红毛镇", 109.690, 19.040),
        ("中平镇", 110.050, 19.000), ("上安乡", 109.670, 18.900), ("什运乡", 109.580, 18.950),
        ("吊罗山乡", 109.930, 18.800),
    ],
}

# Where innovation studios cluster: industrial parks and big works.
INDUSTRIAL: dict[str, list[Town]] = {
    "460105": [("海口国家高新区药谷", 110.205, 19.985), ("美安科技新城", 110.215, 19.925),
               ("新海港", 110.150, 20.050)],
    "460106": [("金盘工业区", 110.305, 20.010)],
    "460107": [("云龙产业园", 110.490, 19.810)],
    "460108": [("临空产业园", 110.460, 19.955), ("江东新区", 110.420, 20.030)],
    "460205": [("崖州湾科技城", 109.185, 18.320)],
    "460400": [("洋浦经济开发区", 109.200, 19.730)],
    "469007": [("东方临港产业园", 108.630, 19.080)],
    "469023": [("老城经济开发区", 110.130, 19.940)],
    "469026": [("昌江循环经济工业园", 108.990, 19.250), ("石碌铁矿", 109.060, 19.240)],
    "469005": [("文昌国际航天城", 110.950, 19.620)],
}

CITY_ROADS: dict[str, list[str]] = {
    "460105": ["滨海大道", "长滨路", "海秀中路", "丘海大道", "南海大道", "椰海大道", "秀华路", "药谷一横路"],
    "460106": ["国贸大道", "龙昆北路", "龙昆南路", "金贸西路", "玉沙路", "海秀中路", "滨海大道",
               "龙华路", "海垦路", "南海大道", "金盘路", "椰海大道"],
    "460107": ["国兴大道", "琼山大道", "红城湖路", "凤翔路", "文庄路", "椰海大道", "龙昆南路", "高登西街"],
    "460108": ["海府路", "国兴大道", "白龙南路", "和平大道", "人民大道", "海甸五西路", "海秀东路",
               "蓝天路", "江东大道"],
    "460202": ["海棠北路", "海棠湾路", "龙海路", "林旺中路"],
    "460203": ["迎宾路", "河东路", "新风街", "榆亚路", "吉阳大道", "亚龙湾路"],
    "460204": ["解放路", "三亚湾路", "凤凰路", "光明街", "新建街", "金鸡岭路", "育才路"],
    "460205": ["崖州大道", "南滨路", "保港路"],
    "460301": ["北京路", "宣德路"],
    "460302": [],
    "460400": ["中兴大道", "人民中路", "伏波东路", "文化路", "军屯路"],
    "469002": ["银海路", "富海路", "爱华路", "金海路", "嘉积大道"],
}
PARK_ROADS = ["一横路", "二横路", "三横路", "纵一路", "纵二路", "工业大道"]
TOWN_ROADS = ["人民路", "解放路", "文化路", "新华路", "建设路", "环城路", "兴业路", "中山路", "文明路", "育才路"]
HIGHWAY = {  # the old national highways through the counties
    "469001": "海榆中线", "469022": "海榆中线", "469030": "海榆中线", "469021": "海榆中线",
    "469002": "海榆东线", "469006": "海榆东线", "469028": "海榆东线",
    "469023": "海榆西线", "460400": "海榆西线", "469026": "海榆西线", "469007": "海榆西线",
    "469027": "海榆西线", "469024": "环岛西线",
}

# District -> (name/address prefix, city-level unit, city short name for branches)
HAIKOU, SANYA = "海口市", "三亚市"
CITY_SHORT = {
    "海口市": "海口", "三亚市": "三亚", "三沙市": "三沙", "儋州市": "儋州", "五指山市": "五指山",
    "琼海市": "琼海", "文昌市": "文昌", "万宁市": "万宁", "东方市": "东方", "定安县": "定安",
    "屯昌县": "屯昌", "澄迈县": "澄迈", "临高县": "临高", "白沙黎族自治县": "白沙",
    "昌江黎族自治县": "昌江", "乐东黎族自治县": "乐东", "陵水黎族自治县": "陵水",
    "保亭黎族苗族自治县": "保亭", "琼中黎族苗族自治县": "琼中",
}

# Real enterprises and institutions, by district: (full name, short name).
REAL_ORGS: dict[str, list[tuple[str, str]]] = {
    "460105": [("海口港集装箱码头有限公司", "海口港集装箱码头"), ("海南港航控股有限公司", "海南港航"),
               ("海南海药股份有限公司", "海南海药"), ("海南普利制药股份有限公司", "普利制药"),
               ("海南省人民医院", "省人民医院"), ("海南椰岛(集团)股份有限公司", "椰岛集团")],
    "460106": [("椰树集团有限公司", "椰树集团"), ("海南金盘智能科技股份有限公司", "金盘科技"),
               ("海马汽车有限公司", "海马汽车"), ("海南医科大学", "海南医科大学"),
               ("海口市公共交通集团有限公司", "海口公交集团")],
    "460107": [("海南师范大学", "海南师范大学"), ("海南天然橡胶产业集团股份有限公司", "海胶集团")],
    "460108": [("海南航空控股股份有限公司", "海南航空"), ("海口美兰国际机场有限责任公司", "美兰机场"),
               ("海南大学", "海南大学"), ("海南高速公路股份有限公司", "海南高速")],
    "460202": [("三亚海棠湾开发建设有限公司", "海棠湾开发建设")],
    "460203": [("三亚学院", "三亚学院"), ("三亚市人民医院", "三亚市人民医院")],
    "460204": [("三亚凤凰国际机场有限责任公司", "凤凰机场"), ("三亚市公共交通集团有限公司", "三亚公交集团")],
    "460205": [("三亚崖州湾科技城开发建设有限公司", "崖州湾科技城"), ("三亚崖州中心渔港管理有限公司", "崖州中心渔港")],
    "460400": [("中国石化海南炼油化工有限公司", "海南炼化"), ("海南金海浆纸业有限公司", "金海浆纸"),
               ("国投洋浦港有限公司", "国投洋浦港"), ("海南逸盛石化有限公司", "逸盛石化"),
               ("中国热带农业科学院", "热科院")],
    "469002": [("海南博鳌机场管理有限公司", "博鳌机场")],
    "469007": [("中海石油化学股份有限公司", "中海化学"), ("华能海南发电股份有限公司东方电厂", "华能东方电厂"),
               ("海南八所港务有限责任公司", "八所港务")],
    "469023": [("海南生态软件园集团有限公司", "生态软件园")],
    "469026": [("海南矿业股份有限公司", "海南矿业"), ("海南核电有限公司", "海南核电"),
               ("华润水泥(昌江)有限公司", "华润水泥昌江")],
    "469027": [("海南莺歌海盐场", "莺歌海盐场")],
}
# Branches every city or county has: templates on the city unit (海口市, 澄迈县 …).
BRANCHES: list[tuple[str, str]] = [
    ("海南电网有限责任公司{cs}供电局", "{cs}供电局"),
    ("中国移动通信集团海南有限公司{cs}分公司", "{cs}移动"),
    ("中国电信股份有限公司{cs}分公司", "{cs}电信"),
    ("中国邮政集团有限公司{c}分公司", "{cs}邮政"),
    ("国家税务总局{c}税务局", "{cs}税务局"),
    ("{c}人民医院", "{c}人民医院"),
    ("{c}中医院", "{c}中医院"),
    ("{c}妇幼保健院", "{c}妇幼保健院"),
    ("中国石化销售股份有限公司海南{cs}石油分公司", "{cs}石油分公司"),
    ("海南海汽运输集团股份有限公司{cs}分公司", "{cs}海汽"),
]
BRAND = ["椰风", "南海", "琼州", "金椰", "天涯", "琼岛", "椰林", "绿岛", "海韵", "蓝海", "热带", "宝岛",
         "南洋", "椰乡", "鹿城", "椰城", "万绿", "南国", "金海", "琼南", "海丰", "兴琼", "新琼", "利海",
         "宏达", "恒信", "嘉禾", "瑞丰", "华盛", "鑫源", "联合", "长盛", "海泰", "永丰", "金源", "和盛",
         "佳和", "盛达", "福源", "顺达"]
TRADE = ["实业", "建设工程", "物流", "物业服务", "农业开发", "旅游开发", "酒店管理", "环境工程", "食品",
         "医药", "电子科技", "建材", "橡胶", "水务", "燃气", "运输", "港务", "热带农业", "渔业",
         "海洋科技", "文化传媒", "装饰工程", "商贸", "信息技术", "新能源", "餐饮管理", "家政服务"]
INDUSTRY_UNIONS = ["快递物流", "建筑", "餐饮", "酒店", "物业", "家政", "网约车", "商贸", "旅游", "货运"]
COMMUNITIES = ["新华", "和平", "东风", "建设", "朝阳", "文明", "幸福", "金山", "椰林", "南门", "北门",
               "东门", "西门", "解放", "滨江", "新村", "红旗", "团结", "兴隆", "光明", "振兴", "友谊"]
SURNAMES = "王陈林吴李符黄张周邢冯云羊蔡郑梁许何杨刘韩潘唐文钟谢邓"
GIVEN = "志明海强文华国建春秋丽芳琼俊伟勇军平兴德仁荣光辉成振冬梅燕霞宏亮峰坤涛"
DEPTS = ["电气", "仪表", "机修", "工艺技术", "配网运维", "变电检修", "数字化", "质量检测", "设备维护",
         "安全生产", "新能源", "焊接", "检验检测", "节能降耗", "智能运维", "技术攻关"]
BANKS = ["中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "海南银行"]

OPENING_OUTDOOR = ["Mo-Su 07:00-21:00", "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
                   "Mo-Su 06:30-12:00,14:30-20:00", "Mo-Su 08:00-20:00"]
OPENING_OFFICE = ["Mo-Fr 08:00-12:00,14:30-17:30", "Mo-Fr 08:00-12:00,14:00-17:30", "Mo-Fr 08:30-17:30",
                  "Mo-Fr 08:00-12:00,14:30-17:30; Sa 09:00-12:00"]
OPENING_READING = ["Mo-Su 09:00-21:00", "Mo-Fr 12:00-14:00,17:30-21:00", "Mo-Fr 08:00-12:00,14:30-17:30"]

SOURCE = "演示数据 demonstration data: generated by geodata/build_venues.py (seed 2621); not the real register"

# Sansha gets a handful of venues, all on Yongxing Island (Xisha District).
FIXED_SANSHA = {("460301", "workers_home"): 1, ("460301", "reading_room"): 1, ("460301", "service_center"): 1}
# Outdoor-worker stations run by the rural credit union, one per city or county.
NONGXIN = "海南省农村信用社联合社"
NONGXIN_DISTRICTS = ["460106", "460204", "460400", "469001", "469002", "469005", "469006", "469007",
                     "469021", "469022", "469023", "469024", "469025", "469026", "469027", "469028",
                     "469029", "469030"]
INNOVATION_WEIGHT = {
    "460105": 30, "460108": 22, "460106": 20, "460107": 8, "460400": 22, "469023": 14, "469007": 9,
    "469026": 8, "460205": 8, "460203": 3, "460204": 3, "460202": 1, "469005": 4, "469002": 2,
    "469024": 2, "469006": 1, "469028": 1, "469027": 1, "469021": 1, "469022": 1,
}
MOUNTAIN = {"469001", "469025", "469029", "469030"}
CITY_BOOST = {"469002": 1.3, "469005": 1.3, "469006": 1.3, "460400": 1.3}
# fmt: on


@dataclass
class District:
    code: str
    props: dict[str, Any]
    geom: Any
    towns: list[tuple[str, float, float]] = field(default_factory=list)  # snapped inside
    industrial: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def city(self) -> str:  # 海口市, 澄迈县 …
        return self.props["parent_zh"] if self.props["parent_zh"] != "海南省" else self.props["name_zh"]

    @property
    def prefix(self) -> str:  # 海口市龙华区, 澄迈县
        return self.city + (self.props["name_zh"] if self.city != self.props["name_zh"] else "")

    @property
    def cs(self) -> str:
        return CITY_SHORT[self.city]

    @property
    def urban(self) -> bool:
        return self.city in (HAIKOU, SANYA)


def short(town: str) -> str:
    for suffix in ("街道", "镇", "乡"):
        if town.endswith(suffix) and len(town) > len(suffix) + 1:
            return town[: -len(suffix)]
    return town


def snap_inside(geom: Any, lon: float, lat: float) -> tuple[float, float, float]:
    """(lon, lat, moved_m): the point, or the nearest point well inside ``geom``."""
    p = Point(lon, lat)
    if geom.contains(p):
        return lon, lat, 0.0
    inner = geom.buffer(-0.003)  # about 300 m inland, where the part is wide enough
    target = inner if not inner.is_empty else geom
    q = nearest_points(target, p)[0]
    if not geom.contains(q):
        part = min(geom.geoms, key=lambda g: g.distance(p))
        q = part.representative_point()
    moved = math.hypot((q.x - lon) * 111320 * math.cos(math.radians(lat)), (q.y - lat) * 110574)
    return q.x, q.y, moved


class Spacing:
    """Grid hash of placed points in Earth-centred coordinates, for the minimum spacing.

    Chord distances between ECEF points never exceed the geodesic, so a chord of
    at least ``min_m`` guarantees a geodesic of at least ``min_m``.
    """

    def __init__(self, min_m: float) -> None:
        self.min_m = min_m
        self.cells: dict[tuple[int, int, int], list[tuple[float, float, float]]] = {}

    def _key(self, p: tuple[float, float, float]) -> tuple[int, int, int]:
        return int(p[0] // self.min_m), int(p[1] // self.min_m), int(p[2] // self.min_m)

    def ok(self, lon: float, lat: float) -> tuple[float, float, float] | None:
        """The point's ECEF coordinates if it is far enough from all others, else None."""
        p = tuple(float(v) for v in ecef(lon, lat)[0])
        kx, ky, kz = self._key(p)  # type: ignore[arg-type]
        for i in (kx - 1, kx, kx + 1):
            for j in (ky - 1, ky, ky + 1):
                for k in (kz - 1, kz, kz + 1):
                    for q in self.cells.get((i, j, k), ()):
                        if math.dist(p, q) < self.min_m:
                            return None
        return p  # type: ignore[return-value]

    def add(self, p: tuple[float, float, float]) -> None:
        self.cells.setdefault(self._key(p), []).append(p)


class Generator:
    def __init__(self, districts: dict[str, District], seed: int) -> None:
        self.d = districts
        self.rng = random.Random(seed)
        self.spacing = Spacing(MIN_SPACING_M)
        self.names: set[str] = set()
        self.seq: dict[tuple[str, str], int] = {}
        self.features: list[dict[str, Any]] = []

    # -- placement ---------------------------------------------------------
    def place(self, d: District, anchor: tuple[str, float, float], sigma_km: float) -> tuple[float, float]:
        _, lon0, lat0 = anchor
        rng, sigma = self.rng, sigma_km
        for attempt in range(2000):
            if attempt and attempt % 25 == 0:
                sigma *= 1.2
            dx, dy = rng.gauss(0.0, sigma), rng.gauss(0.0, sigma)
            lat = lat0 + dy / 110.574
            lon = lon0 + dx / (111.320 * math.cos(math.radians(lat0)))
            lon, lat = round(lon, 6), round(lat, 6)
            if shapely.contains_xy(d.geom, lon, lat) and (p := self.spacing.ok(lon, lat)):
                self.spacing.add(p)
                return lon, lat
        raise RuntimeError(f"could not place a venue near {anchor!r} in {d.code}")

    def pick_town(self, d: District, category: str) -> tuple[str, float, float]:
        towns = d.towns
        u = (d.props["urbanisation_pct_2020"] or 50.0) / 100.0
        weights = []
        for i, (name, _, _) in enumerate(towns):
            w = 1.0
            if i == 0:
                w = 2.0 + 8.0 * u
            elif name.endswith("街道"):
                w = 4.0
            elif self.is_city_area(d, name):
                w = 3.0
            if category == "outdoor_station" and (i == 0 or name.endswith("街道")):
                w *= 2.5
            weights.append(w)
        return self.rng.choices(towns, weights=weights)[0]

    def sigma(self, d: District, town: tuple[str, float, float]) -> float:
        if d.code.startswith("4603"):
            return 0.25
        if town[0].endswith("街道"):
            return 0.7
        if d.urban or town is d.towns[0]:
            return 1.3
        return 1.0

    # -- naming --------------------------------------------------------------
    def unique(self, *candidates: str) -> str | None:
        for c in candidates:
            if c not in self.names:
                return c
        return None

    def generic_org(self, d: District) -> tuple[str, str]:
        b, t = self.rng.choice(BRAND), self.rng.choice(TRADE)
        if self.rng.random() < 0.5:
            return f"海南{b}{t}有限公司", f"{b}{t}"
        return f"{d.cs}{b}{t}有限公司", f"{d.cs}{b}{t}"

    def org(self, d: District, real_share: float = 0.35) -> tuple[str, str]:
        r = self.rng.random()
        real = REAL_ORGS.get(d.code, [])
        if real and r < real_share * 0.5:
            return self.rng.choice(real)
        if r < real_share:
            full, sh = self.rng.choice(BRANCHES)
            return full.format(c=d.city, cs=d.cs), sh.format(c=d.city, cs=d.cs)
        return self.generic_org(d)

    def person(self) -> str:
        g = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.8 else "")
        return self.rng.choice(SURNAMES) + g

    @staticmethod
    def is_city_area(d: District, town: str) -> bool:
        """A city subdistrict (街道) or one of Sanya's areas, addressed by city roads alone."""
        return town.endswith("街道") or (d.city == SANYA and not town.endswith(("镇", "乡")))

    def address(self, d: District, town: str, road: str | None = None) -> str:
        if road is None:
            road = self.road(d, town)
        place = "" if self.is_city_area(d, town) else town
        return f"{d.prefix}{place}{road}{self.rng.randint(1, 320)}号"

    def road(self, d: District, town: str) -> str:
        if any(town == t[0] for t in d.industrial) and town not in (t[0] for t in d.towns):
            return self.rng.choice(PARK_ROADS)
        city_roads = CITY_ROADS.get(d.code)
        if city_roads and (self.is_city_area(d, town) or town == d.towns[0][0]):
            return self.rng.choice(city_roads)
        if d.code in HIGHWAY and self.rng.random() < 0.15:
            return HIGHWAY[d.code]
        return self.rng.choice(TOWN_ROADS)

    def union(self, d: District, town: str | None = None) -> str:
        if town is None:
            return f"{d.prefix}总工会"
        return f"{d.prefix}{town}总工会" if not d.urban else f"{d.prefix}{town}工会"

    # -- venues by category ---------------------------------------------------
    def venue(self, d: District, category: str) -> dict[str, Any]:
        rng = self.rng
        town = self.pick_town(d, category)
        name = operator = tname = ""
        road: str | None = None
        for _ in range(200):
            anchor, sigma, tname = town, self.sigma(d, town), town[0]
            road, description = None, ""
            if category == "workers_home":
                r = rng.random()
                if r < 0.3:
                    name, operator = f"{d.prefix}{tname}职工之家", self.union(d, tname)
                    if d.urban:
                        name = f"{d.prefix}{tname}职工之家"
                elif r < 0.45:
                    ind = rng.choice(INDUSTRY_UNIONS)
                    name = f"{d.prefix}{ind}行业工会联合会职工之家"
                    operator = f"{d.prefix}{ind}行业工会联合会"
                elif r < 0.55:
                    com = rng.choice(COMMUNITIES)
                    name, operator = f"{d.prefix}{tname}{com}社区职工之家", f"{tname}{com}社区工会"
                else:
                    operator, sh = self.org(d)
                    name = f"{operator}职工之家"
                if rng.random() < 0.3:
                    description = f"建筑面积约{rng.randrange(60, 600, 10)}平方米"
            elif category == "reading_room":
                r = rng.random()
                if r < 0.15:
                    com = rng.choice(COMMUNITIES)
                    name, operator = f"{d.prefix}{tname}{com}社区职工书屋", f"{tname}{com}社区工会"
                elif r < 0.25:
                    name, operator = f"{d.prefix}{tname}中心学校职工书屋", f"{d.prefix}{tname}中心学校"
                    if d.urban:
                        operator, _ = self.org(d)
                        name = f"{operator}职工书屋"
                else:
                    operator, _ = self.org(d)
                    name = f"{operator}职工书屋"
                if rng.random() < 0.5:
                    description = f"藏书{rng.randrange(800, 8000, 10)}册"
            elif category == "service_center":
                r = rng.random()
                if r < 0.5 and self.unique(f"{d.prefix}职工服务中心"):
                    name, operator = f"{d.prefix}职工服务中心", self.union(d)
                    anchor = d.towns[0]
                    tname = anchor[0]
                elif r < 0.85:
                    name, operator = f"{d.prefix}{tname}职工服务中心", self.union(d, tname)
                else:
                    operator, sh = self.org(d, real_share=0.6)
                    name = f"{sh}职工服务(帮扶)站"
            elif category == "outdoor_station":
                r = rng.random()
                road = self.road(d, tname)
                if r < 0.35:
                    # City roads name the station alone; a town's roads need the town.
                    name = f"{road}户外劳动者服务站"
                    if road not in CITY_ROADS.get(d.code, ()):
                        name = f"{d.prefix}{tname}{road}户外劳动者服务站"
                    operator = self.union(d)
                elif r < 0.55:
                    bank = rng.choice(BANKS)
                    name = f"{bank}{d.cs}{short(tname)}支行户外劳动者服务站"
                    operator = f"{bank}{d.cs}{short(tname)}支行"
                elif r < 0.7:
                    name = f"海南电网{d.cs}供电局{short(tname)}供电所户外劳动者服务站"
                    operator = f"海南电网有限责任公司{d.cs}供电局"
                elif r < 0.8:
                    name = f"中国石化{short(tname)}{rng.choice(['', '东', '西', '南', '北'])}加油站户外劳动者服务站"
                    operator = f"中国石化销售股份有限公司海南{d.cs}石油分公司"
                elif r < 0.88:
                    name = f"中国邮政{d.cs}{short(tname)}邮政支局户外劳动者服务站"
                    operator = f"中国邮政集团有限公司{d.city}分公司"
                else:
                    com = rng.choice(COMMUNITIES)
                    name = f"{d.prefix}{tname}{com}社区户外劳动者服务站"
                    operator = f"{tname}{com}社区工会"
                if rng.random() < 0.3:
                    description = "服务环卫工人、快递员、外卖送餐员、网约车司机等户外劳动者"
            elif category == "innovation_studio":
                if d.industrial and rng.random() < 0.7:
                    anchor = rng.choice(d.industrial)
                    sigma = 1.2
                    tname = anchor[0]
                operator, sh = self.org(d, real_share=0.6)
                r = rng.random()
                if r < 0.45:
                    name = f"{self.person()}劳模创新工作室"
                    description = rng.choice(["省级劳模创新工作室", "市级劳模创新工作室", ""])
                elif r < 0.7:
                    name = f"{self.person()}工匠人才创新工作室"
                else:
                    name = f"{sh}{rng.choice(DEPTS)}职工创新工作室"
            else:  # other
                r = rng.random()
                if r < 0.3:
                    place = short(tname) if d.urban else tname
                    kind = rng.choice(["货运站", "客运站", "物流园", "加油站", "服务区"])
                    name, operator = f"{d.prefix}{place}{kind}司机之家", self.union(d)
                elif r < 0.6:
                    operator, sh = self.org(d, real_share=0.5)
                    name = f"{sh}女职工关爱室"
                elif r < 0.8:
                    operator, sh = self.org(d, real_share=0.5)
                    name = f"{sh}爱心妈妈小屋"
                elif r < 0.9:
                    name, operator = f"{d.prefix}{tname}职工法律援助工作站", self.union(d)
                else:
                    name, operator = f"{d.prefix}{tname}职工疗休养基地", self.union(d)
            if name not in self.names:
                break
        else:
            raise RuntimeError(f"no unique name for a {category} in {d.code}")
        if anchor is town and road is None:
            # Big named employers sit in their park or at the seat, not in any village.
            if operator in {full for full, _ in REAL_ORGS.get(d.code, ())}:
                anchor = d.industrial[0] if d.industrial else d.towns[0]
            elif operator in {full.format(c=d.city, cs=d.cs) for full, _ in BRANCHES}:
                anchor = d.towns[0]
            tname = anchor[0]
        lon, lat = self.place(d, anchor, sigma)
        return self.feature(d, category, name, lon, lat, tname, operator, description, road)

    def feature(
        self,
        d: District,
        category: str,
        name: str,
        lon: float,
        lat: float,
        town: str,
        operator: str,
        description: str,
        road: str | None = None,
        address: str | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        self.names.add(name)
        key = (d.code, category)
        self.seq[key] = self.seq.get(key, 0) + 1
        fid = f"{d.code}-{ABBR[category]}-{self.seq[key]:03d}"
        # Demonstration venues carry no telephone number: a realistic one (0898-6xxxxxx, 13xxxxxxxxx)
        # behind a large tel: link would ring a stranger. The draws stay, so every other field keeps
        # the values it had.
        r = rng.random()
        if r < 0.15:
            pass
        elif r < 0.75:
            rng.randrange(10**6, 10**7)
        else:
            rng.randrange(10**8, 10**9)
        phone = ""
        feature = {
            "type": "Feature",
            "id": fid,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "name": name,
                "category": category,
                "district_code": d.code,
                "address": address or self.address(d, town, road),
                "operator": operator,
                "phone": phone,
                "opening_hours": self.opening_hours(category),
                "amenities": self.amenities(category, name),
                "description": description,
                "source": SOURCE,
                "status": "active",
            },
        }
        self.features.append(feature)
        return feature

    def opening_hours(self, category: str) -> str | None:
        rng = self.rng
        if category == "outdoor_station":
            return "24/7" if rng.random() < 0.25 else rng.choice(OPENING_OUTDOOR)
        if rng.random() < 0.2:
            return None
        if category == "reading_room" and rng.random() < 0.5:
            return rng.choice(OPENING_READING)
        return rng.choice(OPENING_OFFICE)

    def amenities(self, category: str, name: str) -> list[str]:
        rng = self.rng
        core = [a.code for a in AMENITIES.values() if a.core]
        if category == "outdoor_station":
            chosen = set(core)
            if rng.random() < 0.12:
                chosen.discard(rng.choice(core))
            for code, p in (
                ("phone_charging", 0.7),
                ("ebike_charging", 0.35),
                ("wifi", 0.5),
                ("books", 0.4),
                ("umbrella", 0.45),
            ):
                if rng.random() < p:
                    chosen.add(code)
        else:
            probs = {
                "reading_room": {
                    "books": 1.0,
                    "seating": 0.9,
                    "wifi": 0.5,
                    "air_conditioning": 0.6,
                    "drinking_water": 0.5,
                },
                "workers_home": {
                    "indoor_room": 0.3,
                    "seating": 0.6,
                    "drinking_water": 0.5,
                    "air_conditioning": 0.5,
                    "books": 0.4,
                    "wifi": 0.4,
                },
                "service_center": {
                    "indoor_room": 0.5,
                    "seating": 0.7,
                    "drinking_water": 0.6,
                    "air_conditioning": 0.6,
                    "wifi": 0.5,
                    "first_aid": 0.3,
                    "toilet": 0.4,
                },
                "innovation_studio": {"wifi": 0.6, "air_conditioning": 0.5, "seating": 0.4},
                "other": (
                    {
                        "indoor_room": 0.9,
                        "seating": 0.9,
                        "drinking_water": 0.8,
                        "toilet": 0.7,
                        "phone_charging": 0.6,
                        "microwave": 0.4,
                        "wifi": 0.4,
                    }
                    if name.endswith("司机之家")
                    else {"indoor_room": 0.6, "seating": 0.6, "air_conditioning": 0.5, "first_aid": 0.3}
                ),
            }[category]
            chosen = {code for code, p in probs.items() if rng.random() < p}
        return [code for code in AMENITIES if code in chosen]


def load_districts(path: Path) -> dict[str, District]:
    fc = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, District] = {}
    for f in fc["features"]:
        d = District(code=f["id"], props=f["properties"], geom=shape(f["geometry"]))
        shapely.prepare(d.geom)
        out[d.code] = d
    return out


def snap_places(districts: dict[str, District]) -> list[str]:
    report = []
    for code, d in sorted(districts.items()):
        for src, dst in ((TOWNS[code], d.towns), (INDUSTRIAL.get(code, []), d.industrial)):
            for name, lon, lat in src:
                x, y, moved = snap_inside(d.geom, lon, lat)
                if moved:
                    report.append(f"  snapped {code} {name}: moved {moved:,.0f} m inside the polygon")
                dst.append((name, x, y))
    return report


def allocate(districts: dict[str, District]) -> dict[tuple[str, str], int]:
    """Venue counts per (district, category), each category's total exact."""
    main = [c for c in sorted(districts) if not c.startswith("4603")]
    base = {}
    for c in main:
        p = districts[c].props
        base[c] = p["population_2020"] * (0.5 + (p["urbanisation_pct_2020"] or 0) / 100)
    counts: dict[tuple[str, str], int] = {}
    for cat in CATEGORY_CODES:
        total = PUBLISHED_COUNTS[cat] - sum(n for (c, k), n in FIXED_SANSHA.items() if k == cat)
        floor = dict.fromkeys(main, 0)
        if cat == "service_center":
            floor = dict.fromkeys(main, 1)
        if cat == "outdoor_station":
            floor = {c: int(c in NONGXIN_DISTRICTS) for c in main}
            weights = {}
            for c in main:
                u = (districts[c].props["urbanisation_pct_2020"] or 0) / 100
                boost = 1.6 if districts[c].urban else CITY_BOOST.get(c, 0.4 if c in MOUNTAIN else 1.0)
                weights[c] = districts[c].props["population_2020"] * u * u * boost
        elif cat == "innovation_studio":
            weights = {c: float(INNOVATION_WEIGHT.get(c, 0)) for c in main}
        else:
            weights = base
        rest = largest_remainder(total - sum(floor.values()), weights)
        for c in main:
            counts[(c, cat)] = floor[c] + rest[c]
        for c in ("460301", "460302"):
            counts[(c, cat)] = FIXED_SANSHA.get((c, cat), 0)
    return counts


def generate(districts: dict[str, District], seed: int) -> list[dict[str, Any]]:
    gen = Generator(districts, seed)
    counts = allocate(districts)
    town_of = {c: {t[0]: t for t in d.towns} for c, d in districts.items()}
    ind_of = {c: {t[0]: t for t in d.industrial} for c, d in districts.items()}

    def fixed(
        code: str,
        cat: str,
        name: str,
        anchor: tuple[str, float, float],
        sigma: float,
        operator: str,
        description: str = "",
        town: str | None = None,
    ) -> None:
        d = districts[code]
        lon, lat = gen.place(d, anchor, sigma)
        gen.feature(d, cat, name, lon, lat, town or anchor[0], operator, description)

    # The venues the union's published report names.
    fixed(
        "469023", "workers_home", "澄迈县大丰镇总工会职工之家", town_of["469023"]["大丰镇"], 0.3, "澄迈县大丰镇总工会"
    )
    fixed(
        "460400",
        "reading_room",
        "海南汉地阳光石油化工有限公司职工书屋",
        ind_of["460400"]["洋浦经济开发区"],
        1.0,
        "海南汉地阳光石油化工有限公司",
        "藏书3260册",
        town="洋浦经济开发区",
    )
    for code in NONGXIN_DISTRICTS:
        d = districts[code]
        seat = d.towns[0]
        branch = short(seat[0])
        fixed(
            code,
            "outdoor_station",
            f"{NONGXIN}{d.cs}{branch}支行户外劳动者服务站",
            seat,
            0.8,
            NONGXIN,
            "海南省农村信用社联合社营业网点户外劳动者服务站",
        )
    # Sansha: on Yongxing Island.
    xisha = districts["460301"]
    yx = xisha.towns[0]
    fixed("460301", "workers_home", "三沙市总工会职工之家", yx, 0.25, "三沙市总工会")
    fixed("460301", "reading_room", "三沙市永兴岛职工书屋", yx, 0.25, "三沙市总工会", "藏书1500册")
    fixed("460301", "service_center", "三沙市职工服务中心", yx, 0.25, "三沙市总工会")

    done: dict[tuple[str, str], int] = {}
    for f in gen.features:
        k = (f["properties"]["district_code"], f["properties"]["category"])
        done[k] = done.get(k, 0) + 1
    for code in sorted(districts):
        for cat in CATEGORY_CODES:
            want = counts[(code, cat)] - done.get((code, cat), 0)
            if want < 0:
                raise RuntimeError(f"fixed venues exceed the allocation of {cat} in {code}")
            for _ in range(want):
                gen.venue(districts[code], cat)
    return sorted(gen.features, key=lambda f: f["id"])


def _metres(lon0: float, lat0: float, lon1: float, lat1: float) -> float:
    return math.hypot((lon1 - lon0) * 111320 * math.cos(math.radians(lat0)), (lat1 - lat0) * 110574)


def onto_land(features: list[dict[str, Any]], districts_land: Path, land: Path, seed: int) -> list[str]:
    """Move, in place, each venue that lies off land or outside its land-clipped district; report each move.

    The target of a venue is its district in ``districts_land`` intersected
    with every feature of ``land`` (so the 三沙 venues, whose districts are not
    clipped, must lie on a GSHHG island). A venue that lies in its target
    stays where it is. One that does not is placed near the point of its
    target nearest to it, about ``INLAND_DEG`` inland: Gaussian draws
    (σ ``MOVED_SIGMA_KM``, widening) from ``random.Random(f"{seed}:{id}")``
    until one lies at least ``MARGIN_DEG`` inside the target and 32 m from
    every other venue. Ids, names and every attribute stay.
    """
    shore = shapely.union_all([shape(f["geometry"]) for f in json.loads(land.read_text(encoding="utf-8"))["features"]])
    clipped = {
        f["id"]: shape(f["geometry"]) for f in json.loads(districts_land.read_text(encoding="utf-8"))["features"]
    }
    targets: dict[str, Any] = {}

    def target(code: str) -> Any:
        if code not in targets:
            targets[code] = shapely.intersection(clipped[code], shore)
            shapely.prepare(targets[code])
        return targets[code]

    def inside(f: dict[str, Any]) -> bool:
        lon, lat = f["geometry"]["coordinates"]
        return bool(shapely.contains_xy(target(f["properties"]["district_code"]), lon, lat))

    stay = [f for f in features if inside(f)]
    move = sorted((f for f in features if not inside(f)), key=lambda f: f["id"])
    spacing = Spacing(MIN_SPACING_M)
    for f in stay:
        spacing.add(tuple(float(v) for v in ecef(*f["geometry"]["coordinates"])[0]))  # type: ignore[arg-type]
    report = []
    for f in move:
        code, (lon0, lat0) = f["properties"]["district_code"], f["geometry"]["coordinates"]
        if _metres(*DOWNTOWN_HAIKOU, lon0, lat0) < DOWNTOWN_KEEP_M:
            raise RuntimeError(f"{f['id']} lies off land within {DOWNTOWN_KEEP_M:.0f} m of downtown Haikou")
        t = target(code)
        accept = t.buffer(-MARGIN_DEG)
        accept = accept if not accept.is_empty else t
        inner = t.buffer(-INLAND_DEG)
        inner = inner if not inner.is_empty else accept
        anchor = nearest_points(inner, Point(lon0, lat0))[0]
        rng, sigma = random.Random(f"{seed}:{f['id']}"), MOVED_SIGMA_KM
        for attempt in range(2000):
            if attempt and attempt % 25 == 0:
                sigma *= 1.2
            dx, dy = rng.gauss(0.0, sigma), rng.gauss(0.0, sigma)
            lat = round(anchor.y + dy / 110.574, 6)
            lon = round(anchor.x + dx / (111.320 * math.cos(math.radians(anchor.y))), 6)
            if (
                shapely.contains_xy(accept, lon, lat)
                and shapely.contains_xy(t, lon, lat)
                and (p := spacing.ok(lon, lat))
            ):
                spacing.add(p)
                break
        else:
            raise RuntimeError(f"could not move {f['id']} onto land in {code}")
        f["geometry"]["coordinates"] = [lon, lat]
        report.append(f"  moved {f['id']} onto land: {_metres(lon0, lat0, lon, lat):,.0f} m")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    ap.add_argument("--districts", type=Path, default=DEFAULT_DISTRICTS, help="(default: %(default)s)")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="(default: %(default)s)")
    ap.add_argument("--land", type=Path, default=DEFAULT_LAND, help="(default: %(default)s)")
    ap.add_argument("--districts-land", type=Path, default=DEFAULT_DISTRICTS_LAND, help="(default: %(default)s)")
    ap.add_argument("--quiet", action="store_true", help="print nothing")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    districts = load_districts(args.districts)
    report = snap_places(districts)
    features = generate(districts, args.seed)
    moved = onto_land(features, args.districts_land, args.land, args.seed)
    write_atomic(args.output, feature_collection_text(features))
    if args.quiet:
        return 0
    print("\n".join(report))
    print("\n".join(moved))
    print(f"{len(moved)} venues moved onto land")
    by_cat = {c: 0 for c in CATEGORY_CODES}
    by_dist: dict[str, dict[str, int]] = {}
    for f in features:
        p = f["properties"]
        by_cat[p["category"]] += 1
        by_dist.setdefault(p["district_code"], dict.fromkeys(CATEGORY_CODES, 0))[p["category"]] += 1
    print("category counts: " + ", ".join(f"{c} {n}" for c, n in by_cat.items()) + f"; total {len(features)}")
    print(f"{'district':<20}" + "".join(f"{ABBR[c]:>6}" for c in CATEGORY_CODES) + f"{'total':>7}")
    for code in sorted(districts):
        row = by_dist.get(code, dict.fromkeys(CATEGORY_CODES, 0))
        print(
            f"{code} {districts[code].props['name_zh']:<10}"[:20].ljust(20)
            + "".join(f"{row[c]:>6}" for c in CATEGORY_CODES)
            + f"{sum(row.values()):>7}"
        )
    print(f"wrote {args.output} in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
