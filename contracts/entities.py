"""Entity contracts: every source export declared once, as data.

This module is the single place where an entity's columns are spelled out.
Readers (header matching), normalisation (value parsing), loading (raw table
DDL), the dbt sources, the Great Expectations suites and the docs all derive
from :data:`ENTITIES`. See ``../shared/source-exports.md`` for the contract
these declarations transcribe.

Column kinds (``Column.kind``) say how a value is parsed and stored:

=============  ==================================================  =============
kind           parsing                                             raw column(s)
=============  ==================================================  =============
``text``       trimmed, missing markers -> NULL, numbers masked    VARCHAR
``free_text``  as text, embedded ID/phone numbers masked            VARCHAR
``enum``       trimmed, full-width folded; unknown values warned   VARCHAR
``flag``       是/否 -> true/false                                   BOOLEAN
``integer``    full-width digits, separators, units stripped       BIGINT
``decimal``    as integer, with a decimal point                    DOUBLE
``timestamp``  every form in the contract, Asia/Shanghai local     TIMESTAMP
``date``       as timestamp, date part                             DATE
``month``      ``2026-10`` / ``2026年10月`` / ``202610``             VARCHAR
``address``    as free_text, plus ``<name>_norm``                VARCHAR x2
``id_number``  GB 11643 validated -> ``<name>_pseudonym``/_masked  VARCHAR x2
``phone``      digits only -> ``<name>_pseudonym``/``_masked``      VARCHAR x2
``name``       personal name: never stored                         (none)
=============  ==================================================  =============

Timestamps are stored as naive ``TIMESTAMP`` holding the Asia/Shanghai wall
clock, the time zone every source writes in. Storing local wall time (rather
than UTC instants) keeps month and day boundaries right for every consumer,
whatever the session time zone of the reading client is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

Kind = Literal[
    "text",
    "free_text",
    "enum",
    "flag",
    "integer",
    "decimal",
    "timestamp",
    "date",
    "month",
    "address",
    "id_number",
    "phone",
    "name",
]

SOURCE_TIME_ZONE = "Asia/Shanghai"

# DuckDB type of the main stored column per kind (PII kinds store derived columns).
DUCKDB_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "free_text": "VARCHAR",
    "enum": "VARCHAR",
    "flag": "BOOLEAN",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "month": "VARCHAR",
    "address": "VARCHAR",
}

PII_KINDS = frozenset({"id_number", "phone", "name"})


@dataclass(frozen=True)
class Column:
    """One column of a source export."""

    canonical: str
    header: str
    kind: Kind = "text"
    aliases: tuple[str, ...] = ()
    description: str = ""
    # A row without a value here (or with a malformed one) is rejected.
    required: bool = False
    values: tuple[str, ...] = ()  # accepted values of an enum
    minimum: float | None = None  # sane range; values outside are warned and set NULL
    maximum: float | None = None

    @property
    def pii(self) -> bool:
        return self.kind in PII_KINDS

    @property
    def identifier(self) -> bool:
        """A system-issued code (``*_id``, ``*_code``): only mobiles and 18-digit IDs masked.

        Every other text column (``text``, ``free_text``, ``address``) has each ID number
        and phone typed into it masked at ingest, whatever the form (ingest/pii.py).
        """
        return self.kind == "text" and self.canonical.endswith(("_id", "_code"))

    @property
    def headers(self) -> tuple[str, ...]:
        """The Chinese header and every alias it is known by."""
        return (self.header, *self.aliases)

    def stored_columns(self) -> list[tuple[str, str, str]]:
        """(name, DuckDB type, description) of the raw columns this column becomes."""
        if self.kind == "name":
            return []
        if self.kind in ("id_number", "phone"):
            what = "ID number" if self.kind == "id_number" else "phone number"
            return [
                (
                    f"{self.canonical}_pseudonym",
                    "VARCHAR",
                    f"Keyed pseudonym (HMAC-SHA256) of the {what}: {self.description}",
                ),
                (
                    f"{self.canonical}_masked",
                    "VARCHAR",
                    f"Masked display form of the {what}: {self.description}",
                ),
            ]
        cols = [(self.canonical, DUCKDB_TYPES[self.kind], self.description)]
        if self.kind == "address":
            cols.append(
                (
                    f"{self.canonical}_norm",
                    "VARCHAR",
                    f"Normalised form of {self.canonical} (half-width digits, no spaces, "
                    "幢/室 notation, province and city prefix removed)",
                )
            )
        return cols


@dataclass(frozen=True)
class Entity:
    """One source export: its columns, key and how its versions are ordered."""

    name: str  # raw table name, e.g. hotline_tickets
    system: str  # landing sub-folder: hotline, grid, police, rental, reference
    label: str  # Chinese name used in file names and messages
    file_tokens: tuple[str, ...]  # substrings of file names that identify the entity
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    version_column: str | None = None  # newest value wins; ties by later delivery
    cadence: str = "daily"  # expected delivery cadence: daily | monthly | quarterly | yearly
    full_dump: bool = False  # each delivery is a complete snapshot of the entity

    def column(self, canonical: str) -> Column:
        for col in self.columns:
            if col.canonical == canonical:
                return col
        raise KeyError(f"{self.name} has no column {canonical!r}")

    @property
    def file_prefix(self) -> str:
        """The canonical file-name prefix, e.g. ``12345_工单``."""
        return self.file_tokens[0]

    def stored_columns(self) -> list[tuple[str, str, str]]:
        """The raw table's data columns (without lineage columns), in order."""
        out: list[tuple[str, str, str]] = []
        for col in self.columns:
            out.extend(col.stored_columns())
        return out


def _c(canonical: str, header: str, kind: Kind = "text", *aliases: str, **kw: object) -> Column:
    return Column(canonical=canonical, header=header, kind=kind, aliases=aliases, **kw)  # type: ignore[arg-type]


CHANNELS = ("电话", "网站", "微信", "APP", "市长信箱", "部门转办")
REQUEST_TYPES = ("投诉", "求助", "咨询", "建议", "举报", "表扬")
TICKET_STATUSES = ("待派单", "办理中", "已办结", "已退回", "已撤销")
SATISFACTION = ("满意", "基本满意", "不满意", "未评价")
GRID_TYPES = ("城镇社区网格", "农村网格", "专属网格")
EVENT_ORIGINS = ("网格员巡查", "群众反映", "部门移交", "12345转办")
EVENT_CATEGORIES = ("矛盾纠纷", "安全隐患", "治安防控", "特殊人群", "出租房屋", "环境卫生", "其他")
URGENCY = ("一般", "较急", "紧急")
HANDLING_LEVELS = ("网格", "社区", "街道", "区县", "市级")
EVENT_STATUSES = ("已上报", "已受理", "处置中", "已办结", "已归档", "已退回")
INCIDENT_CHANNELS = ("110电话", "短信", "网络", "现场")
INCIDENT_CATEGORIES = ("刑事", "治安", "交通", "火灾", "纠纷", "求助", "其他")
CASE_CLASSES = ("刑事案件", "治安案件")
CASE_STATUSES = ("已立案", "侦查中", "已破案", "已结案", "已撤案")
SEXES = ("男", "女")
RESIDENCE_REASONS = ("务工", "经商", "就学", "投亲靠友", "其他")
VERDICTS = ("确认群租", "确认出租", "非出租", "无法核实")
RENT_MODES = ("整租", "合租", "分租")
HOUSE_STATUSES = ("在租", "空置", "已注销")
HAZARD_TYPES = (
    "电线私拉乱接",
    "电动车违规充电",
    "消防通道堵塞",
    "未配置烟感",
    "燃气安全",
    "违规隔断",
    "其他",
)
HAZARD_FINDERS = ("公安核查", "网格巡查", "住建检查", "消防检查")
HAZARD_STATUSES = ("未整改", "整改中", "已整改", "逾期未整改")
NOTICE_STATUSES = ("已下发", "已签收", "已反馈", "已销号", "退回重办")

ENTITIES: tuple[Entity, ...] = (
    Entity(
        name="hotline_tickets",
        system="hotline",
        label="12345工单",
        file_tokens=("12345_工单", "工单"),
        key=("ticket_id",),
        version_column="updated_at",
        description="12345 citizen-service hotline tickets, one row per ticket in its state at export time.",
        columns=(
            _c(
                "ticket_id",
                "工单编号",
                "text",
                "工单号",
                required=True,
                description="Ticket id, e.g. NT2026100300123",
            ),
            _c(
                "received_at",
                "来电时间",
                "timestamp",
                "受理时间",
                description="When the request was received",
            ),
            _c(
                "channel",
                "受理渠道",
                "enum",
                "来源渠道",
                values=CHANNELS,
                description="Intake channel",
            ),
            _c("caller_name", "来电人", "name", "诉求人", description="Caller's name (not stored)"),
            _c("caller_phone", "来电号码", "phone", "联系电话", description="Caller's phone"),
            _c(
                "request_type",
                "诉求类型",
                "enum",
                values=REQUEST_TYPES,
                description="Kind of request",
            ),
            _c(
                "category_path",
                "诉求分类",
                "text",
                "问题分类",
                description="'>'-separated category path, e.g. 城乡建设>房屋管理>群租房",
            ),
            _c(
                "content",
                "诉求内容",
                "free_text",
                "问题描述",
                description="Request text as written by the call taker (embedded ID and mobile numbers masked)",
            ),
            _c(
                "address",
                "事发地址",
                "address",
                "问题地址",
                description="Address the request is about, as delivered",
            ),
            _c(
                "district",
                "所属区县",
                "text",
                "区县",
                description="District (区县) as delivered; may be empty",
            ),
            _c(
                "street",
                "所属街道",
                "text",
                "街道(镇)",
                description="Street or town (街道/镇) as delivered; may be empty",
            ),
            _c("department", "承办单位", "text", "责任单位", description="Handling department"),
            _c(
                "dispatched_at",
                "派单时间",
                "timestamp",
                description="When the ticket was dispatched to the department",
            ),
            _c(
                "due_at",
                "办理时限",
                "timestamp",
                "要求办结时间",
                description="Deadline for closing the ticket",
            ),
            _c(
                "closed_at",
                "办结时间",
                "timestamp",
                description="When the ticket was closed; empty while open",
            ),
            _c(
                "status",
                "工单状态",
                "enum",
                "状态",
                values=TICKET_STATUSES,
                description="Ticket status",
            ),
            _c(
                "satisfaction",
                "满意度",
                "enum",
                "回访满意度",
                values=SATISFACTION,
                description="Caller satisfaction from the return visit",
            ),
            _c(
                "is_repeat",
                "是否重复件",
                "flag",
                description="Whether the ticket repeats an earlier request",
            ),
            _c(
                "updated_at",
                "更新时间",
                "timestamp",
                "最后更新时间",
                description="Last change of the ticket (version column)",
            ),
        ),
    ),
    Entity(
        name="grid_grids",
        system="grid",
        label="网格信息",
        file_tokens=("网格_网格信息", "网格信息", "网格_网格"),
        key=("grid_code",),
        cadence="monthly",
        full_dump=True,
        description="Grid master (网格), monthly full dump.",
        columns=(
            _c("grid_code", "网格编码", "text", "网格编号", required=True, description="Grid code"),
            _c("grid_name", "网格名称", "text", description="Grid name"),
            _c("grid_type", "网格类型", "enum", values=GRID_TYPES, description="Kind of grid"),
            _c("community", "所属社区(村)", "text", "所属社区", description="Community or village"),
            _c("street", "所属街道(镇)", "text", "所属街道", description="Street or town"),
            _c("district", "所属区县", "text", "区县", description="District"),
            _c(
                "households",
                "户数",
                "integer",
                minimum=0,
                maximum=100_000,
                description="Households in the grid",
            ),
            _c(
                "population",
                "人口数",
                "integer",
                "人口",
                minimum=0,
                maximum=1_000_000,
                description="Residents in the grid",
            ),
            _c("leader_name", "网格长", "name", description="Grid leader's name (not stored)"),
            _c("leader_phone", "网格长电话", "phone", description="Grid leader's phone"),
        ),
    ),
    Entity(
        name="grid_workers",
        system="grid",
        label="网格员",
        file_tokens=("网格_网格员", "网格员"),
        key=("worker_id",),
        cadence="monthly",
        full_dump=True,
        description="Grid workers (网格员), monthly full dump.",
        columns=(
            _c("worker_id", "网格员编号", "text", required=True, description="Grid worker id"),
            _c("name", "姓名", "name", description="Worker's name (not stored)"),
            _c(
                "id_number",
                "公民身份号码",
                "id_number",
                "身份证号",
                description="Worker's resident ID number",
            ),
            _c("phone", "手机号码", "phone", "联系电话", description="Worker's phone"),
            _c(
                "grid_code",
                "所属网格编码",
                "text",
                "网格编码",
                description="Grid the worker is assigned to",
            ),
            _c(
                "post",
                "岗位",
                "enum",
                values=("专职", "兼职"),
                description="Full-time or part-time",
            ),
            _c("joined_on", "入职日期", "date", description="Date the worker joined"),
            _c("status", "状态", "enum", values=("在岗", "离岗"), description="On duty or left"),
        ),
    ),
    Entity(
        name="grid_events",
        system="grid",
        label="网格事件",
        file_tokens=("网格_事件", "网格事件", "事件"),
        key=("event_id",),
        version_column="updated_at",
        description="Events reported and handled through grid management, daily.",
        columns=(
            _c("event_id", "事件编号", "text", required=True, description="Event id"),
            _c("grid_code", "网格编码", "text", description="Grid the event belongs to"),
            _c(
                "reporter_id",
                "上报人编号",
                "text",
                "上报人",
                description="Worker id of the reporter",
            ),
            _c("reported_at", "上报时间", "timestamp", description="When the event was reported"),
            _c(
                "origin",
                "事件来源",
                "enum",
                values=EVENT_ORIGINS,
                description="Where the event came from",
            ),
            _c(
                "category",
                "事件大类",
                "enum",
                values=EVENT_CATEGORIES,
                description="Event category",
            ),
            _c("subcategory", "事件小类", "text", description="Event subcategory"),
            _c(
                "description",
                "事件描述",
                "free_text",
                description="Event text (embedded ID and mobile numbers masked)",
            ),
            _c("address", "事发地址", "address", description="Address of the event, as delivered"),
            _c("urgency", "紧急程度", "enum", values=URGENCY, description="Urgency"),
            _c(
                "handling_level",
                "处置层级",
                "enum",
                values=HANDLING_LEVELS,
                description="Level that handles the event",
            ),
            _c("department", "处置部门", "text", description="Handling department"),
            _c(
                "status",
                "当前状态",
                "enum",
                "状态",
                values=EVENT_STATUSES,
                description="Event status; 已办结 and 已归档 count as closed",
            ),
            _c("due_at", "办结时限", "timestamp", description="Deadline"),
            _c("closed_at", "办结时间", "timestamp", description="When the event was closed"),
            _c(
                "hotline_ticket_id",
                "关联工单号",
                "text",
                description="The 12345 ticket the event was transferred from",
            ),
            _c(
                "updated_at",
                "更新时间",
                "timestamp",
                description="Last change of the event (version column)",
            ),
        ),
    ),
    Entity(
        name="police_incidents",
        system="police",
        label="110警情",
        file_tokens=("公安_警情", "110警情", "警情"),
        key=("incident_id",),
        description="110 police incidents, daily.",
        columns=(
            _c("incident_id", "警情编号", "text", required=True, description="Incident id"),
            _c(
                "reported_at",
                "接警时间",
                "timestamp",
                "报警时间",
                description="When the call was received",
            ),
            _c(
                "report_channel",
                "报警方式",
                "enum",
                values=INCIDENT_CHANNELS,
                description="How it was reported",
            ),
            _c(
                "category",
                "警情类别",
                "enum",
                values=INCIDENT_CATEGORIES,
                description="Incident category",
            ),
            _c("subcategory", "警情细类", "text", description="Incident subcategory"),
            _c(
                "summary",
                "简要警情",
                "free_text",
                "简要案情",
                description="Short account (embedded ID and mobile numbers masked)",
            ),
            _c(
                "address",
                "发生地址",
                "address",
                "发案地址",
                description="Where it happened, as delivered",
            ),
            _c("station", "管辖派出所", "text", description="Police station in charge"),
            _c("district", "所属区县", "text", description="District"),
            _c("outcome", "处警结果", "text", description="Outcome of the dispatch"),
            _c("case_opened", "是否立案", "flag", description="Whether a case was opened"),
        ),
    ),
    Entity(
        name="police_cases",
        system="police",
        label="案件",
        file_tokens=("公安_案件", "案件"),
        key=("case_id",),
        version_column="updated_at",
        description="Criminal and public-order cases, daily.",
        columns=(
            _c("case_id", "案件编号", "text", required=True, description="Case id"),
            _c(
                "case_class",
                "案件类别",
                "enum",
                values=CASE_CLASSES,
                description="Criminal or public-order case",
            ),
            _c("cause", "案由", "text", description="Cause (盗窃, 诈骗, ...)"),
            _c("occurred_at", "发案时间", "timestamp", description="When the offence happened"),
            _c("filed_at", "立案时间", "timestamp", description="When the case was filed"),
            _c("address", "发案地址", "address", description="Where it happened, as delivered"),
            _c("station", "管辖派出所", "text", description="Police station in charge"),
            _c("district", "所属区县", "text", description="District"),
            _c("street", "所属街道", "text", description="Street or town"),
            _c("status", "案件状态", "enum", values=CASE_STATUSES, description="Case status"),
            _c("solved_at", "破案时间", "timestamp", description="When the case was solved"),
            _c(
                "updated_at",
                "更新时间",
                "timestamp",
                description="Last change of the case (version column)",
            ),
        ),
    ),
    Entity(
        name="police_floating_population",
        system="police",
        label="流动人口登记",
        file_tokens=("公安_流动人口", "流动人口"),
        key=("registration_id",),
        description="Floating-population registrations and deregistrations, daily.",
        columns=(
            _c("registration_id", "登记编号", "text", required=True, description="Registration id"),
            _c("name", "姓名", "name", description="Registered person's name (not stored)"),
            _c(
                "id_number",
                "公民身份号码",
                "id_number",
                "身份证号",
                description="Registered person's resident ID number",
            ),
            _c("sex", "性别", "enum", values=SEXES, description="Sex"),
            _c("birth_date", "出生日期", "date", description="Date of birth"),
            _c("hukou_place", "户籍地", "text", description="Place of household registration"),
            _c(
                "address",
                "居住地址",
                "address",
                "现住址",
                description="Address of residence, as delivered",
            ),
            _c(
                "house_id",
                "房屋编号",
                "text",
                description="Rental house id, when the registration names one",
            ),
            _c(
                "registered_at",
                "登记时间",
                "timestamp",
                description="When the person was registered",
            ),
            _c(
                "reason",
                "居住事由",
                "enum",
                values=RESIDENCE_REASONS,
                description="Reason of residence",
            ),
            _c(
                "deregistered_at",
                "注销时间",
                "timestamp",
                description="When the registration was cancelled",
            ),
            _c("phone", "联系电话", "phone", description="Registered person's phone"),
        ),
    ),
    Entity(
        name="police_rental_checks",
        system="police",
        label="出租房核查",
        file_tokens=("公安_出租房核查", "出租房核查", "核查"),
        key=("check_id",),
        description="On-site rental verification results, often following a warehouse lead, daily.",
        columns=(
            _c("check_id", "核查编号", "text", required=True, description="Check id"),
            _c(
                "lead_id",
                "线索编号",
                "text",
                description="Lead id the warehouse issued, when the check followed one",
            ),
            _c("house_id", "房屋编号", "text", description="Rental house id"),
            _c("address", "核查地址", "address", description="Address visited, as delivered"),
            _c("checked_at", "核查时间", "timestamp", description="When the visit took place"),
            _c("unit", "核查单位", "text", description="Unit that did the check"),
            _c("verdict", "核查结论", "enum", values=VERDICTS, description="Verdict of the visit"),
            _c(
                "occupants_found",
                "实住人数",
                "integer",
                minimum=0,
                maximum=500,
                description="Occupants found on site",
            ),
            _c(
                "hazards_found",
                "发现隐患数",
                "integer",
                minimum=0,
                maximum=100,
                description="Hazards found on site",
            ),
        ),
    ),
    Entity(
        name="rental_houses",
        system="rental",
        label="出租房屋登记",
        file_tokens=("出租房屋_登记", "出租房屋登记", "出租房屋"),
        key=("house_id",),
        version_column="updated_at",
        description="Rental-housing registry: daily increments plus a monthly full dump.",
        columns=(
            _c("house_id", "房屋编号", "text", required=True, description="Rental house id"),
            _c(
                "address",
                "房屋地址",
                "address",
                description="Address of the dwelling, as delivered",
            ),
            _c("district", "所属区县", "text", description="District"),
            _c("street", "所属街道", "text", description="Street or town"),
            _c("community", "所属社区", "text", description="Community"),
            _c(
                "landlord_name",
                "房东姓名",
                "name",
                "出租人",
                description="Landlord's name (not stored)",
            ),
            _c(
                "landlord_id_number",
                "房东身份证号",
                "id_number",
                "出租人身份证号",
                description="Landlord's resident ID number",
            ),
            _c("landlord_phone", "房东电话", "phone", "出租人电话", description="Landlord's phone"),
            _c(
                "floor_area_m2",
                "建筑面积(㎡)",
                "decimal",
                "面积",
                minimum=1,
                maximum=5000,
                description="Floor area in square metres",
            ),
            _c("rooms", "房间数", "integer", minimum=0, maximum=200, description="Number of rooms"),
            _c(
                "rent_mode",
                "出租方式",
                "enum",
                values=RENT_MODES,
                description="Whole, shared or sub-let",
            ),
            _c(
                "registered_tenants",
                "登记承租人数",
                "integer",
                "承租人数",
                minimum=0,
                maximum=500,
                description="Tenants registered by the landlord",
            ),
            _c("lease_start", "租赁起始日期", "date", description="Lease start"),
            _c("lease_end", "租赁终止日期", "date", description="Lease end"),
            _c(
                "registered_at",
                "登记时间",
                "timestamp",
                description="When the dwelling was registered",
            ),
            _c(
                "status",
                "房屋状态",
                "enum",
                values=HOUSE_STATUSES,
                description="Let, vacant or deregistered",
            ),
            _c("lon", "经度", "decimal", minimum=73, maximum=136, description="Longitude (WGS-84)"),
            _c("lat", "纬度", "decimal", minimum=3, maximum=54, description="Latitude (WGS-84)"),
            _c(
                "updated_at",
                "更新时间",
                "timestamp",
                description="Last change of the registration (version column)",
            ),
        ),
    ),
    Entity(
        name="rental_hazards",
        system="rental",
        label="出租房屋隐患",
        file_tokens=("出租房屋_隐患", "隐患"),
        key=("hazard_id",),
        version_column="updated_at",
        description="Fire and safety hazards found in rental dwellings and their rectification, daily.",
        columns=(
            _c("hazard_id", "隐患编号", "text", required=True, description="Hazard id"),
            _c("house_id", "房屋编号", "text", description="Rental house id"),
            _c("found_at", "发现时间", "timestamp", description="When the hazard was found"),
            _c(
                "hazard_type", "隐患类型", "enum", values=HAZARD_TYPES, description="Kind of hazard"
            ),
            _c("found_by", "发现来源", "enum", values=HAZARD_FINDERS, description="Who found it"),
            _c("due_at", "整改期限", "timestamp", description="Rectification deadline"),
            _c(
                "status",
                "整改状态",
                "enum",
                values=HAZARD_STATUSES,
                description="Rectification status",
            ),
            _c(
                "fixed_at",
                "整改完成时间",
                "timestamp",
                description="When rectification was completed",
            ),
            _c("updated_at", "更新时间", "timestamp", description="Last change (version column)"),
        ),
    ),
    Entity(
        name="reference_population",
        system="reference",
        label="常住人口",
        file_tokens=("参考_常住人口", "常住人口"),
        key=("year", "district", "street"),
        cadence="yearly",
        description="Resident population per street, yearly, from the statistics bureau.",
        columns=(
            _c(
                "year",
                "年份",
                "integer",
                required=True,
                minimum=2000,
                maximum=2100,
                description="Year",
            ),
            _c("district", "所属区县", "text", required=True, description="District"),
            _c("street", "所属街道", "text", description="Street or town"),
            _c(
                "population",
                "常住人口",
                "integer",
                minimum=0,
                maximum=50_000_000,
                description="Resident population",
            ),
        ),
    ),
    Entity(
        name="reference_safety_survey",
        system="reference",
        label="公众安全感调查",
        file_tokens=("参考_安全感调查", "安全感"),
        key=("year", "quarter", "district"),
        cadence="quarterly",
        description="Quarterly provincial public-safety phone survey per district.",
        columns=(
            _c(
                "year",
                "年份",
                "integer",
                required=True,
                minimum=2000,
                maximum=2100,
                description="Year",
            ),
            _c(
                "quarter",
                "季度",
                "integer",
                required=True,
                minimum=1,
                maximum=4,
                description="Quarter (1-4)",
            ),
            _c("district", "所属区县", "text", required=True, description="District"),
            _c(
                "sample_size",
                "样本量",
                "integer",
                minimum=0,
                maximum=1_000_000,
                description="Respondents",
            ),
            _c(
                "safety_pct",
                "公众安全感(%)",
                "decimal",
                minimum=0,
                maximum=100,
                description="Share answering safe or fairly safe, in percent",
            ),
        ),
    ),
    Entity(
        name="reference_indicators",
        system="reference",
        label="部门报送指标",
        file_tokens=("参考_部门指标", "部门指标", "指标"),
        key=("month", "indicator_code", "district", "street"),
        cadence="monthly",
        description="Department-reported monthly indicators, long format.",
        columns=(
            _c("month", "月份", "month", required=True, description="Month, YYYY-MM"),
            _c("indicator_code", "指标编码", "text", required=True, description="Indicator code"),
            _c("indicator_name", "指标名称", "text", description="Indicator name"),
            _c("district", "所属区县", "text", required=True, description="District"),
            _c(
                "street",
                "所属街道",
                "text",
                description="Street or town; empty for district-level values",
            ),
            _c("value", "数值", "decimal", description="Value"),
            _c("unit", "单位", "text", description="Unit of the value"),
            _c("reporting_unit", "报送单位", "text", description="Department that reported it"),
        ),
    ),
    Entity(
        name="centre_notice_feedback",
        system="centre",
        label="提示单反馈",
        file_tokens=("指挥中心_提示单反馈", "提示单反馈", "提示单"),
        key=("feedback_id",),
        version_column="updated_at",
        description=(
            "Feedback on the notices (提示单) the warehouse issued, from the command centre's "
            "office system (OA), daily: every notice whose state changed that day."
        ),
        columns=(
            _c("feedback_id", "反馈编号", "text", required=True, description="Feedback id"),
            _c(
                "notice_id",
                "提示单编号",
                "text",
                "文号",
                description="The number the warehouse printed on the notice (may be hand-typed)",
            ),
            _c(
                "unit",
                "接收单位",
                "text",
                "责任单位",
                description="Receiving unit: a district or street name, with or without its district",
            ),
            _c("signed_at", "签收时间", "timestamp", description="When the unit signed for it"),
            _c(
                "reported_at",
                "反馈时间",
                "timestamp",
                description="When the unit reported back (empty until it does)",
            ),
            _c(
                "measures",
                "整改措施",
                "free_text",
                "反馈内容",
                description="What the unit did (free text; embedded numbers masked)",
            ),
            _c(
                "status",
                "办理状态",
                "enum",
                "状态",
                values=NOTICE_STATUSES,
                description="Workflow state of the notice",
            ),
            _c("handler_name", "经办人", "name", description="Handling officer (never stored)"),
            _c(
                "handler_phone",
                "经办人电话",
                "phone",
                "联系电话",
                description="Handling officer's phone",
            ),
            _c("updated_at", "更新时间", "timestamp", description="Last change (version column)"),
        ),
    ),
)

ENTITIES_BY_NAME: dict[str, Entity] = {e.name: e for e in ENTITIES}
SYSTEMS: tuple[str, ...] = ("hotline", "grid", "police", "rental", "reference", "centre")
# How each source system is named to users (dashboards, Dagster descriptions).
SYSTEM_LABELS: dict[str, str] = {
    "hotline": "12345热线",
    "grid": "网格化管理",
    "police": "公安",
    "rental": "出租房屋",
    "reference": "参考数据",
    "centre": "指挥中心",
}
# Statuses of a delivered file in raw.load_ledger, with their names on the dashboards.
LOADED, DUPLICATE, REJECTED, MISSING = "loaded", "duplicate", "rejected", "missing"
FILE_STATUS_LABELS: dict[str, str] = {
    LOADED: "已入库",
    DUPLICATE: "重复文件",
    REJECTED: "整体拒收",
    MISSING: "文件缺失",
}
# The files that count as a delivery of their entity (for freshness): read, recognised.
DELIVERED_STATUSES: tuple[str, ...] = (LOADED, DUPLICATE)
# The kind of the rows Dagster's freshness checks record in quality.check_results (one per
# entity and run): the dashboards and the bulletin read lateness from them.
FRESHNESS_KIND = "freshness"


@dataclass(frozen=True)
class Cadence:
    """How often a source delivers, and the grace it gets before it counts as late."""

    interval: timedelta
    grace: timedelta
    label: str  # how the dashboards name it

    @property
    def allowed(self) -> timedelta:
        return self.interval + self.grace


# Entity.cadence names one of these. Dagster's freshness checks evaluate them
# (ingest.freshness.evaluate) and record the outcome (FRESHNESS_KIND), which the 数据质量
# page shows.
CADENCES: dict[str, Cadence] = {
    "daily": Cadence(timedelta(days=1), timedelta(hours=12), "日更"),
    "monthly": Cadence(timedelta(days=31), timedelta(days=5), "月更"),
    "quarterly": Cadence(timedelta(days=92), timedelta(days=15), "季更"),
    "yearly": Cadence(timedelta(days=366), timedelta(days=60), "年更"),
}

# Columns every raw table carries besides its data columns.
LINEAGE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    (
        "_extra",
        "JSON",
        "Unknown extra columns of the delivery, as a JSON object (kept, never fail a file)",
    ),
    ("_file_sha256", "VARCHAR", "SHA-256 of the delivered file (joins raw.load_ledger)"),
    (
        "_row_number",
        "BIGINT",
        "Line (CSV) or sheet row (XLSX) of the record in the delivered file, 1-based",
    ),
    ("_ingested_at", "TIMESTAMP", "When the file was ingested (Asia/Shanghai local time)"),
    (
        "_delivery_seq",
        "BIGINT",
        "Order of the delivery in raw.load_ledger: of two versions of a key, the later delivery wins ties",
    ),
)


def entity(name: str) -> Entity:
    try:
        return ENTITIES_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown entity {name!r}; known: {', '.join(ENTITIES_BY_NAME)}") from None


def validate_declarations() -> list[str]:
    """Consistency problems of the declarations themselves (tested; empty when sound)."""
    problems: list[str] = []
    for ent in ENTITIES:
        names = [c.canonical for c in ent.columns]
        if len(set(names)) != len(names):
            problems.append(f"{ent.name}: duplicate canonical names")
        headers = [h for c in ent.columns for h in c.headers]
        if len(set(headers)) != len(headers):
            problems.append(f"{ent.name}: a header or alias is used twice")
        for k in ent.key:
            if k not in names:
                problems.append(f"{ent.name}: key {k} is not a column")
        if ent.version_column and ent.version_column not in names:
            problems.append(f"{ent.name}: version column is not a column")
        if ent.system not in SYSTEMS:
            problems.append(f"{ent.name}: unknown system {ent.system}")
        if ent.cadence not in CADENCES:
            problems.append(f"{ent.name}: unknown cadence {ent.cadence}")
        for c in ent.columns:
            if c.kind == "enum" and not c.values:
                problems.append(f"{ent.name}.{c.canonical}: enum without values")
    if set(SYSTEM_LABELS) != set(SYSTEMS):
        problems.append("SYSTEM_LABELS must name every system in SYSTEMS")
    return problems
