"""Fixed content of the demo district: streets, communities, comments, accounts."""

from __future__ import annotations

from typing import Any

# Gulou District's 13 streets, in the district's official order.
STREETS: tuple[tuple[str, str], ...] = (
    ("NHL", "宁海路街道"),
    ("HQL", "华侨路街道"),
    ("HNL", "湖南路街道"),
    ("ZYM", "中央门街道"),
    ("YJM", "挹江门街道"),
    ("JD", "江东街道"),
    ("FH", "凤凰街道"),
    ("YJL", "阅江楼街道"),
    ("RHNL", "热河南路街道"),
    ("MFS", "幕府山街道"),
    ("JNL", "建宁路街道"),
    ("BTQ", "宝塔桥街道"),
    ("XS", "小市街道"),
)

COMMUNITY_STEMS = ("东苑", "西园", "南村", "北街", "新村", "和园", "银杏", "梧桐")

# The survey agency residents see on the privacy notice and on their invitation cards.
AGENCY = "南京民意调查中心（演示）"
HOTLINE = "025-8888 1234"

# Fieldwork targets per street of the wave in fieldwork (elderly, younger adults, units).
QUOTAS = {"elderly": 60, "adult": 60, "unit": 20}

# Street with a deliberately small sample (flagged cells, wide intervals).
SMALL_STREET = "小市街道"

# Latent offsets that make some indicators weaker district-wide (e-bikes, dogs, parking).
INDICATOR_OFFSETS = {
    "I05": -0.15,
    "I06": -0.35,
    "I07": -0.45,
    "I08": -0.4,
    "I13": -0.3,
    "I15": 0.25,
    "I11": 0.1,
}

COMPLAINTS: dict[str, tuple[str, ...]] = {
    "I01": ("社区党组织活动很少见到", "希望社区书记多到楼道里走走"),
    "I02": ("志愿者活动都是走形式", "党员志愿服务只在检查时出现"),
    "I03": ("反映的问题很久没人回复", "打电话到街道经常没人接", "办事人员态度生硬"),
    "I04": ("小区垃圾清运不及时，夏天有异味", "背街小巷卫生死角多"),
    "I05": ("垃圾分类点位太远，老人不方便", "分类投放时间太短，上班族赶不上"),
    "I06": ("小区里狗粪没人清理", "遛狗不拴绳，孩子害怕", "晚上狗叫影响休息"),
    "I07": ("电动车在楼道里充电，太危险", "充电桩太少，排队到半夜", "飞线充电没人管"),
    "I08": ("小区停车位太少，晚上没地方停", "路边乱停车堵住消防通道"),
    "I09": ("早市占道经营，人车混行", "楼顶违章搭建一直没拆"),
    "I10": ("老年食堂饭菜价格偏高", "助老服务预约太难", "社区活动室开放时间太短"),
    "I11": ("社区医院排队时间长", "常用药品经常缺货"),
    "I12": ("就业信息更新慢", "困难补助申请材料太多"),
    "I13": ("物业只收费不管事", "老旧小区加装电梯进展慢", "下水道经常堵"),
    "I14": ("办事要跑好几趟", "网上办事操作太复杂，老人不会用"),
    "I15": ("晚上路灯不亮，走路不安全", "小区门禁形同虚设"),
    "I16": ("楼上漏水纠纷调解没结果", "邻里噪音问题没人管"),
    "I17": ("文体活动场地太少", "活动通知不及时，年轻人参与少"),
}

PRAISE: dict[str, tuple[str, ...]] = {
    "I04": ("街道保洁比以前好多了",),
    "I10": ("社区助餐点很方便",),
    "I11": ("家庭医生上门服务很贴心",),
    "I15": ("巡逻多了，晚上出门放心",),
    "I17": ("广场舞和合唱团活动丰富",),
}

GENERAL_COMMENTS = (
    "希望街道多听听居民的意见",
    "总体还可以，希望继续改进",
    "问题反映了要有回音",
    "感谢社区工作人员的辛苦付出",
    "",
)

# Demo staff accounts: (username, role, street name or None, password).
ACCOUNTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("admin", "admin", None, "Demo-Admin-2026"),
    ("agency", "agency", None, "Demo-Agency-2026"),
    ("interviewer", "interviewer", None, "Demo-Interview-2026"),
    ("ninghailu", "street", "宁海路街道", "Demo-Street-2026"),
    ("viewer", "viewer", None, "Demo-Viewer-2026"),
)
# A city-level account (no district): sees 鼓楼区 and 玄武区.
CITY_PASSWORD = "Demo-City-2026"

# What the demo streets did about their rectification items (measures, results, photo captions).
RECTIFICATION_STEPS: tuple[dict[str, Any], ...] = (
    {
        "measures": (
            "围绕“{name}”逐个社区走访，列出居民反映的问题清单，逐项明确措施、责任人和完成时间。"
        ),
        "unit": "街道社区治理办",
        "person": "王科长",
        "progress": "已走访全部社区，问题清单共18条，已完成11条。",
        "result": "问题清单18条全部办结，并在各社区公示栏公布办理结果。",
        "captions": ("“{name}”整改后的现场", "社区公示栏公布的办理结果"),
    },
    {
        "measures": "针对“{name}”召开居民议事会，按居民意见制定改进办法，每月回访一次。",
        "unit": "街道党政办",
        "person": "李主任",
        "progress": "议事会已召开3场，改进办法已在社区试行。",
        "result": "改进办法在全街道推行，回访居民满意。",
        "captions": ("居民议事会现场", "“{name}”改进后的情况"),
    },
    {
        "measures": "成立“{name}”专项小组，联合物业和社区网格员定期巡查，发现问题当日处理。",
        "unit": "街道城市管理科",
        "person": "张科长",
        "progress": "专项小组已成立，巡查台账已建立。",
        "result": "巡查发现的问题均在当日处理，台账可查。",
        "captions": ("专项小组巡查", "巡查台账"),
    },
)

# The bureau's reason when it returns the demo's returned item.
RETURN_REASON = "照片只拍到车棚外观，未能反映充电口已投入使用，请补充使用中的照片和居民反馈。"
