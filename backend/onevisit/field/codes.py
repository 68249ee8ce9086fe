"""Code lists of field work (DOMAIN.md "Result vocabulary"; seeds 002:20-21, 003:12).

Each list is a tuple of (stable ASCII code, Chinese label). Events carry the code only: the
label is for display and may be reworded; the code never changes once published, because
hashed evidence and published results refer to it.
"""

from __future__ import annotations

__all__ = [
    "CHECKIN_SOURCES",
    "CONFIRMATION_METHODS",
    "DISPOSITIONS",
    "ITEM_RESULTS",
    "REFUSAL_REASONS",
    "RESULT_CODES",
    "SPECIAL_OUTCOMES",
    "SPECIAL_OUTCOME_RESULT",
    "codes",
    "label",
    "label_or_code",
]

# One line of a matter's guide (检查项目): what the inspector ticks.
ITEM_RESULTS = (
    ("compliant", "符合"),
    ("non_compliant", "不符合"),
    ("not_applicable", "不适用"),
)

# The national publicity system's 双随机 result of one matter (DOMAIN.md "Result vocabulary").
RESULT_CODES = (
    ("no_problem", "未发现问题"),
    ("corrected", "发现问题已责令改正"),
    ("pending_follow_up", "发现问题待后续处理"),
    ("not_publicised", "未按规定公示应当公示的信息"),
    ("false_publicity", "公示信息隐瞒真实情况弄虚作假"),
    ("no_activity", "未发现开展本次抽查涉及的经营活动"),
    ("unreachable", "查无下落/通过登记的住所（经营场所）无法联系"),
    ("closed", "已关闭停业或正在清算"),
    ("refused_severe", "不予配合情节严重"),
    ("deregistered", "已注销"),
    ("licence_revoked", "被吊销"),
    ("cancelled", "被撤销"),
    ("moved_out", "迁出"),
    ("other_violation", "违反其他部门相关规定"),
)

# Follow-up disposition of a matter's result (002:22).
DISPOSITIONS = (
    ("none", "无需后续处置"),
    ("stop_inspection", "停止检查"),
    ("order_correction", "责令改正"),
    ("case_lead", "发现案件线索"),
    ("notify_department", "抄告相关部门"),
    ("other", "其他"),
)

# Situations where the inspection cannot proceed and the result is formed directly from the
# evidence gathered (002:21); the four kinds of serious refusal are 003:12 (一)-(四).
SPECIAL_OUTCOMES = (
    ("unreachable", "通过登记的住所（经营场所）无法联系"),
    ("deregistered", "已注销"),
    ("liquidation", "正在组织清算"),
    ("cancelled", "被撤销登记"),
    ("licence_revoked", "被吊销营业执照"),
    ("refused_entry", "拒绝检查人员进入被检查场所"),
    ("refused_materials", "拒绝提供相关情况或相关材料"),
    ("false_materials", "不如实或不按要求提供情况或相关材料"),
    ("obstruction", "其他阻挠、妨碍抽查工作的行为"),
)

# The national result code a special outcome leads to, so the PWA can propose it for every
# matter of the visit (the inspectors still record it as matter_result events).
SPECIAL_OUTCOME_RESULT = {
    "unreachable": "unreachable",
    "deregistered": "deregistered",
    "liquidation": "closed",
    "cancelled": "cancelled",
    "licence_revoked": "licence_revoked",
    "refused_entry": "refused_severe",
    "refused_materials": "refused_severe",
    "false_materials": "refused_severe",
    "obstruction": "refused_severe",
}

# Why the legal representative / person in charge did not sign (002:20(三)).
REFUSAL_REASONS = (
    ("absent", "负责人不在场"),
    ("refused", "拒绝签字"),
    ("unable", "无法签字"),
    ("other", "其他"),
)

# How an inspector confirmed the record (EVIDENCE.md §5).
CONFIRMATION_METHODS = (
    ("webauthn", "通行密钥确认"),
    ("device_pin", "设备密钥与PIN确认"),
)

# Where a check-in position came from.
CHECKIN_SOURCES = (
    ("gps", "卫星定位"),
    ("network", "网络定位"),
    ("manual", "手工选点"),
)


def codes(table: tuple[tuple[str, str], ...]) -> frozenset[str]:
    """The set of codes of one list, for membership tests."""
    return frozenset(code for code, _ in table)


def label(table: tuple[tuple[str, str], ...], code: str) -> str:
    """The Chinese label of a code; KeyError for a code not on the list."""
    for c, text in table:
        if c == code:
            return text
    raise KeyError(code)


def label_or_code(table: tuple[tuple[str, str], ...], code: str) -> str:
    """The label, or the code itself when the list no longer has it (a code once published
    stays readable even if its label is withdrawn); "" for no code."""
    try:
        return label(table, code) if code else ""
    except KeyError:
        return code
