# ruff: noqa: E501  (a translation table: one description per line reads best)
"""Chinese of the editor's field help: every schema field description the editor shows.

Keyed by the English text as :func:`gui.fieldhelp.field_help` shows it (the description
or attribute docstring of the field, its reST markup dropped, or
:data:`gui.fieldhelp.MEANINGS`). Merged into the one table of :func:`gui.i18n.tr` through
:data:`gui.i18n_views.ZH_VIEWS`. A field added to the schema, or a description reworded,
needs its line here: ``tests/gui/test_chinese_complete.py`` fails until it has one.
"""

from __future__ import annotations

FIELD_HELP_ZH: dict[str, str] = {
    # the scenario (sim/scenario.py Scenario)
    "A name shown in tables and on the map.": "显示在表格和地图上的名称。",
    "A sentence on what the scenario is about (shown in the scenario browser).": "一句话说明本情景的内容（显示在情景库中）。",
    "Must be the city's base_year (checked against the city by sim.validate).": "须等于城市的基准年（校验时与城市数据核对）。",
    # model parameters (sim/scenario.py Parameters)
    "Scales the age-specific fertility rates (1.0 = the city's base TFR).": "按比例缩放分年龄生育率（1.0 = 城市基准总和生育率 TFR）。",
    "Total fertility rate; overrides the city's base TFR when given.": "总和生育率；填写后取代城市基准 TFR。",
    "Scales the age-specific death rates (1.0 = the city's own).": "按比例缩放分年龄死亡率（1.0 = 城市自身水平）。",
    "Arrivals per year as a share of the population.": "每年迁入人数占人口的比例。",
    "Departures per year as a share of the population.": "每年迁出人数占人口的比例。",
    "Share of households moving zone within the city per year.": "每年在市内更换居住小区的家庭比例。",
    "Each replication draws multipliers on fertility, migration, pupil yield and take-up of new dwellings (sim.population.uncertainty); false = every multiplier 1.": "每次重复运行随机抽取生育、迁移、生源系数和新房入住的倍数（参数不确定性）；选“否”则所有倍数均为 1。",
    "How pupils are given a school: by catchment, the nearest school, or parents' choice.": "学生如何分配学校：按学区划片、就近入学或家长择校。",
    "Utility per km of home-school distance in the choice model (0 = distance is ignored).": "择校模型中家校距离每公里的效用（0 = 不考虑距离）。",
    "Utility per unit of school quality (z-score) in the choice model.": "择校模型中学校质量每单位（标准分）的效用。",
    "Share of residents aged 18–64 who work.": "18–64 岁居民中就业者的比例。",
    "Home→work distribution: doubly-constrained gravity calibrated to mean_trip_km, or the parameter-free radiation model (Simini et al. 2012).": "居住地→工作地分布：按平均通勤距离标定的双约束重力模型，或无参数的辐射模型（Simini 等，2012）。",
    "Observed car-driver share of commutes: the car-driver constant of the mode choice is set once so that commutes reach it at the reference prices on the free-flow base-year network (sim.mobility.modes); prices, tolls and congestion then move it.": "观测到的通勤小汽车驾驶比例：方式选择中小汽车驾驶的常数项只标定一次，使基准年自由流路网、参考价格下的通勤达到该比例；此后价格、收费和拥堵会改变它。",
    "Observed share of primary pupils driven to school: sets the escort constant likewise.": "观测到的小学生由家长开车接送的比例：同样用于标定接送常数项。",
    "Perceived car operating cost, money per km in the city's currency (default: CLP).": "感知的小汽车使用成本，每公里金额，以城市货币计（默认：智利比索 CLP）。",
    "Flat bus fare per trip (city's currency; pupils ride at a third of it).": "公交单一票价，每次出行（城市货币；学生按三分之一票价）。",
    "A GTFS feed (a .zip or a folder; relative to the scenario file): the bus level of service of the mode choice comes from its weekday AM timetable (sim.mobility.gtfs) instead of the simple bus along the roads; none = the simple bus.": "公交 GTFS 数据（压缩包或文件夹；相对于情景文件的路径）：方式选择中公交的服务水平取自其工作日早高峰时刻表，而不是沿道路运行的简化公交；留空 = 简化公交。",
    "Parking charge of a car trip ending in a zone with public car parks (city's currency).": "小汽车出行终点所在小区设有公共停车场时的停车费（城市货币）。",
    "Vehicles per AM hour crossing the city between the two ends of its main trunk road.": "早高峰每小时经主干道两端穿越城市的车辆数。",
    "Most demand-supply (skims → choices → assignment) rounds per year (sim.mobility.loop); the loop stops earlier once demand_gap is reached. The rounds a year took are its diagnostic KPI demand_rounds (the base year, which starts from free flow, takes more than the warm-started later years).": "每年需求—供给循环（阻抗 → 选择 → 分配）的最多轮数；达到需求收敛间隙后提前停止。每年实际轮数记为诊断指标“需求循环轮数”（基准年从自由流开始，比以上一年为起点的后续年份需要更多轮）。",
    "Stop the demand-supply loop when the choices' expected car matrix differs from the loaded one by at most this share (L1); below ~0.003 the inner assignments' own gap (0.01) keeps the default city from settling further.": "当选择得到的期望小汽车矩阵与已加载矩阵之差（L1 范数）不超过此比例时停止需求—供给循环；低于约 0.003 时，内层分配自身的间隙（0.01）使默认城市无法进一步收敛。",
    "An od_estimated.csv of calibrate-demand --out (relative to the scenario file): the busiest-hour car matrix the static assignment loads is multiplied by its factors estimated / prior per OD pair, so the run reproduces the counts it was calibrated to (sim.mobility.calibrate.read_od_adjustment); none = the modelled matrix as it is.": "需求标定命令输出的 OD 估计文件（od_estimated.csv，相对于情景文件的路径）：静态分配加载的高峰小时小汽车矩阵按每个 OD 对的系数（估计值 / 先验值）相乘，使运行结果重现标定所用的观测流量；留空 = 直接使用模型矩阵。",
    "Observed mean home-work trip length the gravity model is calibrated to.": "重力模型据以标定的观测平均通勤距离。",
    "The peak model: dynamic loads the AM period's vehicles (sim.traffic.due: route swapping to a dynamic user equilibrium, signals, queues, spill-back; departures from a 05:00 warm-up on) and reports its traffic KPIs; static reports the busiest hour's static equilibrium (which the dynamic model also runs, as its warm start and for the demand loop's skims). Static is the default for now, for its cost: on the default city ten dynamic years of one replication took 200 s of one core against 28 s static (~17 s a year more: two loadings in the first year, one in a year that starts from last year's routes: dynamic.warm_iterations; 30 % of drivers informed: dynamic.informed_share), 100 replication-years ~17 min on 2 cores. It leaves ~1,800 of ~139,000 vehicles driving at 10:30 in the first year (busiest-hour travel-time index 1.24) and at most ~2,800 (0-3 in eight of nine) in the nine years after (1.21-1.29).": "高峰交通模型：“动态交通”加载早高峰时段的车辆（路径交换至动态用户均衡，含信号灯、排队和溢流；出发时间从 05:00 预热时段开始），并报告其交通指标；“静态交通”报告高峰小时的静态均衡（动态模型也会运行它，作为初始解和需求循环的阻抗）。目前因计算成本仍默认静态：在默认城市上，一次重复运行十个动态年份耗单核 200 秒，静态为 28 秒（每年约多 17 秒：第一年加载两次，从上一年路径出发的年份加载一次：动态模型参数“热启动年份最多加载次数”；30% 的驾驶人获得实时信息：动态模型参数“已获信息驾驶人比例”），100 个重复运行年份在 2 核上约需 17 分钟。第一年约 13.9 万辆车中约 1,800 辆到 10:30 仍在路上（高峰小时行程时间指数 1.24），此后九年最多约 2,800 辆（九年中有八年为 0–3 辆），指数 1.21–1.29。",
    "How many replications run the peak traffic (the first N, or all). Traffic is a run's dearest stage (~3-4 s CPU per replication-year on the default city against ~1 s for the rest). With 1 (the schema's default, for quick runs) only the first replication has it: its traffic KPIs then have no p10-p90 band (the manifest lists them in kpis_without_band and its traffic entry says the replications were sampled); all (the shipped default scenario's choice) or N ≥ 2 gives them bands from the replications' own demography and demand, the replications spread over the cores (sim.runs.run.replication_workers).": "多少次重复运行计算高峰交通（前 N 次，或全部）。交通是运行中最耗时的环节（默认城市每次重复每年约 3–4 秒 CPU，其余环节约 1 秒）。取 1（模式默认值，用于快速运行）时只有第一次重复计算交通：其交通指标没有 p10–p90 区间（运行清单会列出这些指标，并注明交通只抽取了部分重复）；选“全部”（随附的默认情景即如此）或 N ≥ 2 则根据各次重复自身的人口与需求给出区间，各次重复分配到多个处理器核心上并行运行。",
    # every policy (sim/policies/base.py)
    "The first calendar year the policy is in force.": "政策开始生效的年份。",
    "The point in the city's projected coordinates (metres): x, y. Click the map to set.": "该点在城市投影坐标系中的坐标（米）：x, y。在地图上点击即可设置。",
    "The point as longitude, latitude (instead of xy).": "该点的经度、纬度（代替投影坐标）。",
    "A short unique id (letters, digits), e.g. P60.": "简短且唯一的编号（字母、数字），例如 P60。",
    # schools (sim/policies/schools.py)
    "The school level.": "学段。",
    "Classes in every grade; seats = classes × class size × grades.": "每个年级的班数；学位 = 班数 × 班额 × 年级数。",
    "Classes of each grade taught (overrides classes_per_grade); a list given as classes_per_grade lands here.": "各年级分别的班数（优先于“每年级班数”）；在“每年级班数”中填写列表时会存入此处。",
    "Pupils per class; blank = the school system's class size (e.g. 45).": "每班人数；留空 = 学制规定的班额（例如 45 人）。",
    "How attractive the school is to parents (0 = average).": "学校对家长的吸引力（0 = 平均水平）。",
    "Zones whose catchment this school takes over; empty = the zones it becomes the nearest open school of its level for.": "划入本校学区的小区；留空 = 本校成为同学段最近开办学校的那些小区。",
    "The school (its id); pick one from the list.": "学校（编号）；从列表中选择。",
    "The zones (ids); pick them on the map.": "小区（编号）；在地图上选取。",
    # housing (sim/policies/housing.py)
    "The year the first dwellings are handed over (start_year is accepted too).": "首批住房交付的年份（也可写作起始年份）。",
    "Dwellings handed over each year.": "每年交付的住房套数。",
    "How many years the dwellings are handed over for.": "住房分几年交付。",
    "flat (market flats), house, or affordable / resettlement housing (安置房).": "公寓（商品房）、独栋住宅，或保障性住房 / 安置房。",
    "Share of the dwellings occupied once settled (default: the dwelling type's).": "入住稳定后的住房入住率（默认：按住房类型）。",
    "Cumulative share occupied by years since handover (default: the dwelling type's).": "交付后逐年的累计入住比例（默认：按住房类型）。",
    "Mean size of households moving in from outside (default: the dwelling type's).": "从市外迁入家庭的平均人数（默认：按住房类型）。",
    "Share of households moving in from inside the city (default: the dwelling type's).": "从市内迁入的家庭比例（默认：按住房类型）。",
    "Multiplier on the children of households moving in from outside.": "从市外迁入家庭子女数的倍数。",
    # roads (sim/policies/roads.py)
    "The road links; pick them on the map.": "道路路段；在地图上选取。",
    "The node (junction id) the new link starts at.": "新路段的起点节点（路口编号）。",
    "The node (junction id) the new link ends at.": "新路段的终点节点（路口编号）。",
    "Lanes in each direction.": "每个方向的车道数。",
    "Free-flow speed (km/h).": "自由流速度（公里/小时）。",
    "Vehicles per hour one lane can carry.": "单车道每小时可通行的车辆数。",
    "Build the reverse link too.": "同时新建反向路段。",
    "Charge per crossing, in the city's currency units (finite).": "每次通过的收费，以城市货币计（须为有限值）。",
    "Links entering these zones are charged (a cordon).": "进入这些小区的路段收费（警戒线收费）。",
    "Cars departing from this time (HH:MM) pay.": "自此时刻（时:分）起出发的小汽车需缴费。",
    "Cars departing from start until end (HH:MM) pay; default the whole AM period. Drivers may leave earlier or later to avoid it (sim.mobility.departure).": "在开始与结束时刻（时:分）之间出发的小汽车需缴费；默认整个早高峰时段。驾驶人可能提前或推迟出发以避开收费。",
    # signals and traffic management (sim/policies/traffic.py)
    "The signals (ids) to retime, or all.": "需重新配时的信号灯（编号），或全部。",
    "Webster's method from the peak flows, or a fixed cycle.": "按高峰流量用韦伯斯特法，或采用固定周期。",
    "Cycle length of a fixed retiming (default 90 s); Webster computes its own.": "固定配时的周期长度（默认 90 秒）；韦伯斯特法自行计算周期。",
    "The city's signal id (the junction).": "城市中的信号灯编号（即路口）。",
    "Effective green of each phase (s): phase 0 the main road, the last the cross road.": "各相位的有效绿灯时长（秒）：第 0 相位为主路，最后一个为横向道路。",
    "The cycle: the greens plus 4 s of lost time per phase.": "周期：各绿灯时长之和加上每相位 4 秒损失时间。",
    "When in the cycle the main road's green begins (s).": "主路绿灯在周期中的起始时刻（秒）。",
    "The corridor as a street name (its links heading one way along it)...": "以街道名称指定绿波走廊（沿该街道单向的路段）……",
    "...or as directed link ids (those heading one way along them).": "……或以有向路段编号指定（沿这些路段单向）。",
    "Design speed of the wave.": "绿波的设计车速。",
    "Common cycle of the corridor's signals (default their longest).": "走廊各信号灯的公共周期（默认取其中最长者）。",
    "Run the wave west/south-bound instead of east/north-bound.": "绿波方向改为向西/向南，而非向东/向北。",
    "Share of drivers it reaches (0–1).": "覆盖的驾驶人比例（0–1）。",
    "Share of the illegally parked drivers who get the message and move.": "收到通知并挪车的违停驾驶人比例。",
    "Minutes after parking illegally that a messaged driver has moved to a car park.": "收到通知的驾驶人在违停后几分钟内挪至停车场。",
    "Share of drivers who get current travel times and re-route on the way, from the policy's year (never fewer than parameters.dynamic.informed_share, the drivers informed without a policy).": "自政策生效年份起获得实时行程时间并在途中改道的驾驶人比例（不低于动态模型中无此政策时已获信息的驾驶人比例）。",
    "The first form: this share of pupils (drawn per pupil) start school LEGACY_SHIFT_MIN minutes later.": "第一种写法：该比例的学生（逐个随机抽取）推迟 60 分钟到校。",
    "The second form: every school of this level starts shift_min later...": "第二种写法：该学段的所有学校按“错峰时间（分钟）”推迟上学……",
    "...or the listed schools (ids) do.": "……或所列学校（编号）推迟上学。",
    "Minutes the start moves (negative = earlier).": "上学时间移动的分钟数（负数 = 提前）。",
    # the allowed values after the description (gui/fieldhelp.py)
    "yes": "是",
    "no": "否",
}
