"""The English catalogue: Chinese source text -> English.

Why a Python catalogue and not gettext ``.po``/``.mo`` files: the same strings
are needed by Jinja templates *and* by ``static/js/map.js`` (sent to the page
as JSON), there are only a few dozen of them, and a dict needs no compile step
at install time, so a fresh checkout, ``pytest`` and the service worker's
cached page all see the same text. ``tests/test_views.py`` extracts every
``_("…")`` from the templates and the script and fails on any without an entry
here, so nothing shown to a user stays untranslated. Placeholders are
``%(name)s`` in both languages.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # page chrome
    "海南职工服务阵地地图": "Hainan worker service venues map",
    "海南职工服务阵地": "Hainan worker service venues",
    "查找离您最近的户外劳动者服务站和职工服务阵地": "Find the nearest outdoor-worker rest station or trade-union venue",
    "跳到查找面板": "Skip to the search panel",
    "语言": "Language",
    "地图": "Map",
    "查找": "Find",
    "图例": "Legend",
    "地图需要启用 JavaScript。": "The map needs JavaScript.",
    "地图上的场所为演示数据，并非真实名录。": "The venues on this map are demonstration data, not the real register.",
    # nearest
    "离我最近": "Nearest to me",
    "在地图上选点": "Pick a point on the map",
    "找哪一类": "Looking for",
    "全部类别": "All categories",
    "正在获取您的位置……": "Finding your position…",
    "此浏览器不支持定位。": "This browser cannot share your position.",
    "您没有允许本页使用位置信息。": "You have not allowed this page to use your location.",
    "定位超时。": "Finding your position took too long.",
    "暂时无法确定您的位置。": "Your position is unavailable right now.",
    "请在地图上点一下您的位置，或在下方搜索地点或场所名称。": (
        "Tap your position on the map, or search below for a place or venue name."
    ),
    "请在地图上点一下您所在的位置。": "Tap the map where you are.",
    "离您最近": "Nearest to you",
    "离所选位置最近": "Nearest to the chosen point",
    "离 %(p)s 最近": "Nearest to %(p)s",
    "从 %(p)s 查找最近": "Find the nearest from %(p)s",
    "起点": "Starting point",
    "3 公里内没有符合条件的场所，下面是离您最近的几个。": (
        "Nothing that matches is within 3 km; these are the nearest ones."
    ),
    "没有符合筛选条件的场所。请减少筛选条件。": "No venue matches the filters. Try removing some.",
    "%(n)s 米": "%(n)s m",
    "%(n)s 公里": "%(n)s km",
    "步行约 %(n)s 分钟": "about %(n)s min on foot",
    "步行约 %(n)s 小时": "about %(n)s h on foot",
    # search
    "搜索场所或地点": "Search venues or places",
    "名称、地址或市县": "Name, address or city/county",
    "搜索": "Search",
    "“%(q)s”的搜索结果：%(n)s 个场所": "Results for “%(q)s”: %(n)s venues",
    "没有找到。请换个名称或地址试试。": "Nothing found. Try another name or address.",
    # filters
    "筛选": "Filters",
    "类别（图例）": "Category (legend)",
    "服务设施": "Amenities",
    "只看正在开放": "Open now only",
    "清除筛选": "Clear filters",
    "地图上显示 %(n)s 个场所（共 %(t)s 个）": "Showing %(n)s of %(t)s venues on the map",
    # card
    "关闭场所详情": "Close venue details",
    "地址未登记": "Address not recorded",
    "开放时间：": "Opening hours: ",
    "未登记": "Not recorded",
    "正在开放": "Open now",
    "已关闭": "Closed now",
    "开放时间未知": "Hours unknown",
    "全天 24 小时": "Open 24 hours, every day",
    "休息": "closed",
    "电话：": "Phone: ",
    "导航": "Directions",
    "高德地图": "Amap (高德)",
    "百度地图": "Baidu Maps (百度)",
    "苹果地图": "Apple Maps",
    "谷歌地图": "Google Maps",
    "分享此场所的链接": "Link to share this venue",
    "复制链接": "Copy link",
    "链接已复制。": "Link copied.",
    # network
    "场所数据加载失败。请检查网络后刷新页面。": "The venue data did not load. Check the network and reload.",
    "网络已断开：正在使用上次加载的数据。": "Offline: using the data loaded last time.",
    # coverage page (/coverage)
    "职工服务阵地覆盖分析": "Venue coverage analysis",
    "跳到覆盖表": "Skip to the coverage table",
    "覆盖地图": "Coverage map",
    "类别": "Categories",
    "类别：": "Categories: ",
    "服务半径（米）": "Service radius (m)",
    "其他": "Other",
    "半径": "Radius",
    "地图显示": "Map shows",
    "建议新增站点数": "Suggested new sites",
    "更新": "Update",
    "半径 50–20000 米；建议站点 0–50 个（0 表示不计算）。": "Radius 50–20,000 m; suggested sites 0–50 (0: none).",
    "全省概况": "Province summary",
    "服务半径：%(r)s 米": "Service radius: %(r)s m",
    "数据版本：%(v)s；生成时间：%(t)s": "Data version %(v)s; generated %(t)s",
    "场所数": "Venues",
    "每万人场所数": "Venues per 10,000 residents",
    "覆盖面积": "Area within reach",
    "平方公里": "km²",
    "覆盖人口": "People within reach",
    "无场所的市县区": "Districts without a venue",
    "没有。": "None.",
    "低于目标（每万人 %(t)s 个）的市县区：%(n)s 个": "Districts below the target of %(t)s per 10,000 residents: %(n)s",
    "建议新增站点": "Suggested new sites",
    "建议站点按面积加权，而非按人口：未配置人口网格。": (
        "Suggestions are weighted by area, not by people: no population grid is configured."
    ),
    "空旷陆地上每个候选点增加的面积相同；同分时选离现有任一类阵地最近的点（人们已经聚集的城镇和单位附近）。配置人口网格（如 WorldPop）可按人口加权。": (
        "Every candidate on open land adds the same area; among ties the one nearest an existing venue of "
        "any category (where people already gather: towns, workplaces) is chosen. Configure a population "
        "grid (e.g. WorldPop) to weight by people."
    ),
    "建议站点按人口网格加权。": "Suggestions are weighted by the population grid.",
    "下载": "Download",
    "打印": "Print",
    "场所为演示数据，并非真实名录。": "The venues are demonstration data, not the real register.",
    "各市县区覆盖情况": "Coverage by district",
    "点击表头排序。无场所的市县区排在前面并标红；低于目标的标为橙色。": (
        "Click a column header to sort. Districts without a venue come first, in red; "
        "those below the target are orange."
    ),
    "无场所": "no venue",
    "低于目标": "below target",
    "估": "est.",
    "人口为估计值": "Population is an estimate",
    "面积与覆盖面积按等积投影计算；距离为到最近场所的大地线距离，统计于 500 米网格中心。人口为 2020 年人口普查数。": (
        "Areas are computed in an equal-area projection; distances are geodesic distances to the nearest venue, "
        "taken at the centres of a 500 m grid. Population: 2020 census."
    ),
    "区划代码": "Adcode",
    "市县区": "District",
    "英文名": "English name",
    "常住人口（2020）": "Population (2020)",
    "面积（平方公里）": "Area (km²)",
    "覆盖面积（平方公里）": "Area within reach (km²)",
    "覆盖率（%）": "Area covered (%)",
    "到最近场所距离中位数（米）": "Median distance to nearest venue (m)",
    "到最近场所距离90%分位（米）": "90th percentile distance (m)",
    "到最近场所最远距离（米）": "Maximum distance (m)",
    "人口网格总人口": "Population on the grid",
    "市县区（分级设色）": "Districts (choropleth)",
    "覆盖空白区": "Gap areas",
    "现有场所": "Existing venues",
    "无数据": "No data",
    "正在计算建议站点……": "Computing suggested sites…",
    "图层加载失败：": "A layer failed to load:",
    "建议站点 %(n)s": "Suggested site %(n)s",
    "新增覆盖：%(v)s %(u)s": "Adds %(v)s %(u)s",
    "覆盖：%(a)s → %(b)s %(u)s（%(p)s%）": "Covered: %(a)s → %(b)s %(u)s (%(p)s%)",
    "人": "people",
    "已计算 %(n)s 个建议站点。": "%(n)s suggested sites computed.",
    "半径外的区域": "Beyond the radius",
    "请输入 50 到 20000 之间的数字。": "Enter a number from 50 to 20,000.",
    "建议范围": "Suggest within",
    "全省": "Whole province",
    # embeddable maps (/embed, /embed/builder)
    "地图参数有误": "The map's settings are wrong",
    "在完整地图中查看": "Open the full map",
    "在完整地图中查看此场所": "See this venue on the full map",
    "嵌入地图": "Embed the map",
    "完整地图": "Full map",
    "地图选项": "Map options",
    "选择地图显示的内容，预览后复制代码，粘贴到您网站的页面中即可，无需编程。": (
        "Choose what the map shows, check the preview, then copy the code into a page of your site. "
        "No programming needed."
    ),
    "不选即显示全部类别。": "Tick none to show every category.",
    "市县": "City or county",
    "地图语言": "Map language",
    "显示“离我最近”按钮": "Show the “Nearest to me” button",
    "更多选项": "More options",
    "纬度": "Latitude",
    "经度": "Longitude",
    "缩放级别": "Zoom level",
    "地图中心（WGS-84 坐标），留空则显示全岛或所选市县。": (
        "Centre of the map (WGS-84). Leave empty to show the whole island or the chosen district."
    ),
    "打开某个场所（场所编号）": "Open one venue (venue id)",
    "底图": "Base map",
    "网站默认": "Site default",
    "初始高度（像素）": "First height (pixels)",
    "预览": "Preview",
    "地图预览": "Map preview",
    "复制代码": "Copy the code",
    "脚本（推荐：高度自动适应内容）": "Script (recommended: the height follows the content)",
    "iframe（固定高度）": "iframe (fixed height)",
    "复制": "Copy",
    "支持 oEmbed 的网站（如 WordPress）也可以只粘贴地图链接：": (
        "Sites that support oEmbed (WordPress, for one) need only the map's link:"
    ),
    "已复制到剪贴板。": "Copied to the clipboard.",
    "无法自动复制，请选中代码后手动复制。": "Could not copy automatically; select the code and copy it by hand.",
    "生成器需要启用 JavaScript。": "The builder needs JavaScript.",
}
