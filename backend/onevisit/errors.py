"""The error tree: every failure the API reports is an AppError with a stable code.

Codes are declared once, here, with their HTTP status and a Chinese and English message;
the PWA and outside clients branch on `code`, people read `message`. app.py maps AppError
(and litestar's own validation errors) to a JSON body in exactly one place:

    {"code": "subject.uscc_invalid", "message": "…", "message_en": "…", "details": {…}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CATALOGUE", "AppError", "Problem"]


@dataclass(frozen=True, slots=True)
class Problem:
    status: int
    zh: str
    en: str


CATALOGUE: dict[str, Problem] = {
    # --- request / generic ---
    "request.invalid": Problem(400, "请求格式不正确", "The request is malformed"),
    "request.too_large": Problem(413, "上传内容超过大小限制", "The upload is larger than allowed"),
    "request.not_found": Problem(404, "请求的资源不存在", "Not found"),
    "request.method_not_allowed": Problem(405, "不支持该请求方法", "Method not allowed"),
    "server.error": Problem(500, "服务器内部错误", "Internal server error"),
    # --- auth ---
    "auth.required": Problem(401, "请先登录", "Sign-in required"),
    "auth.forbidden": Problem(403, "当前角色无权执行此操作", "Your role may not do this"),
    "auth.department_forbidden": Problem(
        403, "无权访问其他部门的数据", "Data of another department is not yours to see"
    ),
    "auth.csrf": Problem(
        403, "请求缺少有效的防伪令牌，请刷新页面后重试", "Missing or wrong CSRF token; reload"
    ),
    "auth.session_expired": Problem(401, "登录已过期，请重新登录", "Session expired"),
    "auth.enrolment_unknown": Problem(404, "注册链接无效", "Unknown enrolment link"),
    "auth.enrolment_expired": Problem(410, "注册链接已过期", "The enrolment link has expired"),
    "auth.enrolment_used": Problem(409, "注册链接已被使用", "The enrolment link was already used"),
    "auth.challenge_unknown": Problem(
        400, "验证请求已失效，请重试", "The challenge is unknown or expired; try again"
    ),
    "auth.webauthn_invalid": Problem(
        400, "通行密钥验证失败", "The passkey response did not verify"
    ),
    "auth.credential_unknown": Problem(
        401, "未找到该通行密钥，请使用注册时的设备", "Unknown passkey"
    ),
    "auth.sign_count": Problem(
        401, "通行密钥计数异常，可能被复制，已拒绝", "Passkey sign counter went backwards"
    ),
    "auth.user_inactive": Problem(403, "该用户已停用", "This user is deactivated"),
    "auth.pin_invalid": Problem(401, "PIN 码错误", "Wrong PIN"),
    "auth.pin_weak": Problem(400, "PIN 码须为 6 至 12 位数字", "The PIN must be 6-12 digits"),
    "auth.pin_locked": Problem(
        429, "PIN 码错误次数过多，请稍后再试", "Too many wrong PINs; try again later"
    ),
    "auth.device_unknown": Problem(401, "未登记的设备密钥", "Unknown device key"),
    "auth.device_revoked": Problem(403, "该设备密钥已被吊销", "This device key is revoked"),
    "auth.device_signature": Problem(400, "设备签名无效", "The device signature is invalid"),
    "auth.device_key_invalid": Problem(
        400, "设备公钥格式不正确（需 P-256 SPKI）", "The device key must be a P-256 SPKI"
    ),
    "auth.role_invalid": Problem(400, "角色不正确", "Unknown role"),
    "auth.department_required": Problem(
        400, "除管理员外，用户必须属于一个部门", "Every user but an admin needs a department"
    ),
    "auth.device_taken": Problem(
        409, "该设备密钥已登记给其他用户", "This device key is registered to another user"
    ),
    "auth.device_no_pin": Problem(
        409, "该设备未设置 PIN 码，请使用通行密钥登录", "This device has no PIN; use the passkey"
    ),
    "auth.passkey_session_required": Problem(
        403,
        "只能在通行密钥登录的会话中登记设备密钥；仅有 PIN 的手机请使用注册链接",
        "Device keys are registered in a passkey session; PIN phones use an enrolment link",
    ),
    # --- directory ---
    "department.unknown": Problem(404, "部门不存在", "Unknown department"),
    "department.exists": Problem(409, "部门编码已存在", "A department with this code exists"),
    "department.invalid": Problem(400, "部门信息不正确", "The department is invalid"),
    "matter.unknown": Problem(404, "抽查事项不存在", "Unknown matter"),
    "matter.exists": Problem(409, "抽查事项编码已存在", "A matter with this code exists"),
    "matter.invalid": Problem(400, "抽查事项内容不正确", "The matter is invalid"),
    "subject.unknown": Problem(404, "检查对象不存在", "Unknown subject"),
    "subject.uscc_invalid": Problem(
        400, "统一社会信用代码校验不通过", "The USCC fails its GB 32100-2015 check character"
    ),
    "subject.regno_invalid": Problem(
        400, "注册号校验不通过", "The registration number fails its check digit"
    ),
    "subject.invalid": Problem(400, "检查对象信息不正确", "The subject is invalid"),
    "subject.exists": Problem(409, "检查对象已存在", "A subject with this id exists"),
    "subject.stale": Problem(
        409, "检查对象已被他人修改，请刷新后重试", "The subject changed since you read it; reload"
    ),
    "subject.id_invalid": Problem(
        400,
        "主体标识不正确（产品、项目、行为的编号须为 1–64 位字母、数字、- 或 _）",
        "Bad subject id (products, projects, behaviours: 1-64 of A-Z a-z 0-9 - _)",
    ),
    "subject.kind_invalid": Problem(400, "检查对象类型不正确", "Unknown subject kind"),
    "subject.credit_class_invalid": Problem(
        400, "信用风险分类须为 A、B、C、D 之一", "The credit risk class must be A, B, C or D"
    ),
    "subject.coordinates_invalid": Problem(
        400,
        "经纬度不正确（纬度 ±90°，经度 ±180°，须成对填写）",
        "Bad coordinates (latitude within ±90°, longitude within ±180°, both or neither)",
    ),
    "inspector.unknown": Problem(404, "执法检查人员不存在", "Unknown inspector"),
    "inspector.exists": Problem(
        409, "执法检查人员编号已存在", "An inspector with this code exists"
    ),
    "inspector.invalid": Problem(400, "执法检查人员信息不正确", "The inspector is invalid"),
    "inspector.account_exists": Problem(
        409, "该执法检查人员已有账号", "This inspector already has an account"
    ),
    "inspector.certificate_taken": Problem(
        409, "执法证号已属于其他执法检查人员", "Another inspector has this certificate number"
    ),
    "user.unknown": Problem(404, "用户不存在", "Unknown user"),
    "import.format": Problem(
        400, "文件格式无法识别（仅支持 .xlsx 和 .csv）", "Unreadable file (.xlsx or .csv only)"
    ),
    "import.columns": Problem(400, "文件缺少必需的列", "The file lacks required columns"),
    "import.rows_invalid": Problem(
        422, "文件中有错误行，未导入任何数据", "Some rows are invalid; nothing was imported"
    ),
    "import.empty": Problem(400, "文件中没有数据行", "The file has no data rows"),
    "import.kind": Problem(404, "不支持的导入导出类型", "Unknown import or export kind"),
    "import.duplicate": Problem(400, "文件中编码重复", "The same id appears twice in the file"),
    "import.required": Problem(400, "必填项为空", "A required value is empty"),
    "import.value_invalid": Problem(400, "取值格式不正确", "The value has the wrong format"),
    # --- evidence / sync ---
    # rescue bundles (sync/bundle.py, docs/bundle.md)
    "bundle.malformed": Problem(
        400, "救援包文件格式不正确，未导入任何内容", "The bundle is malformed; nothing was imported"
    ),
    "bundle.format_unknown": Problem(
        400, "不支持的救援包格式版本", "Unknown bundle format (expected onevisit.bundle/1)"
    ),
    "bundle.too_large": Problem(
        413, "救援包超过大小限制，请分成多个文件", "The bundle is too large; split it"
    ),
    "bundle.media_unreferenced": Problem(
        422,
        "包内没有经签名验证的事件引用该文件，未保存",
        "No authentic event of the bundle names this media; not stored",
    ),
    "bundle.media_size": Problem(
        422, "文件字节数与声明的大小不符", "The media bytes differ from the declared size"
    ),
    "sync.batch_too_large": Problem(
        413, "单次同步的事件过多，请分批发送", "Too many events in one sync batch"
    ),
    "log.range_invalid": Problem(
        400, "日志范围或树大小不正确", "The log index range or tree size is invalid"
    ),
    "record.unknown": Problem(
        404,
        "未找到该检查记录（哈希须为 64 位小写十六进制，且已有检查人员确认或当事人签名）",
        "No such inspection record (64 lowercase hex, confirmed or signed by someone)",
    ),
    # --- media ---
    "media.too_large": Problem(
        413, "文件超过该类型的大小上限", "The file is larger than allowed for its purpose"
    ),
    "media.mime_unsupported": Problem(
        400, "不支持该文件类型", "This media type is not accepted for this purpose"
    ),
    "media.hash_mismatch": Problem(
        422, "文件内容与声明的哈希值不符，请重新上传", "The bytes do not match the declared SHA-256"
    ),
    "media.size_mismatch": Problem(
        422, "声明的文件大小与已存文件不符", "The declared size differs from the stored object"
    ),
    "media.not_image": Problem(422, "文件不是有效的图片", "The file is not a valid image"),
    "media.mime_mismatch": Problem(
        422, "图片格式与声明的类型不符", "The image format differs from the declared type"
    ),
    "media.decompression_bomb": Problem(
        422, "图片像素过多，已拒绝", "The image has too many pixels (decompression bomb)"
    ),
    "media.not_json": Problem(422, "文件不是有效的 JSON 数据", "The file is not valid JSON"),
    "media.not_video": Problem(422, "文件不是有效的视频", "The file is not a valid video"),
    "media.unknown": Problem(404, "文件不存在", "Unknown media object"),
    "media.no_derivative": Problem(
        404, "该文件没有缩略图或预览图", "This media type has no thumbnail or display copy"
    ),
    "upload.unknown": Problem(404, "上传任务不存在", "Unknown upload"),
    "upload.offset_required": Problem(
        400, "缺少或错误的 Upload-Offset 请求头", "Missing or invalid Upload-Offset header"
    ),
    "upload.offset_mismatch": Problem(
        409, "上传位置不一致，请查询当前位置后继续", "Upload-Offset is not the current offset"
    ),
    "upload.too_long": Problem(
        400, "上传内容超出声明的文件大小", "The chunk would pass the declared size"
    ),
    "upload.chunk_too_large": Problem(
        413, "单次上传的数据块过大", "The chunk is larger than one PATCH may carry"
    ),
    # --- devices' backlog reports, the team view, closing a visit (field/team.py) ---
    "device.unknown": Problem(404, "未登记的设备", "Unknown device"),
    "device.not_owner": Problem(
        403, "只能为本人的设备报告同步状态", "Only the device's owner may report for it"
    ),
    "visit.closed": Problem(409, "该检查已结束，不能再次结束", "The visit is already closed"),
    "visit.plan_invalid": Problem(400, "行程安排不正确", "The day plan is invalid"),
    "visit.not_signed": Problem(
        409,
        "检查记录尚无针对当前记录的当事人签名或拒签记录",
        "No current signature or witnessed refusal of the record",
    ),
    "visit.unconfirmed": Problem(
        409,
        "有已签到的检查人员尚未确认当前检查记录",
        "Members who checked in have not confirmed the current record",
    ),
    "visit.presence": Problem(
        409, "到场签到的检查人员少于两名", "Fewer than two inspectors checked in on site"
    ),
    "visit.conflicts": Problem(
        409, "检查结果存在冲突，请先更正", "Answers conflict; correct them first"
    ),
    "visit.pending_sync": Problem(
        409,
        "有成员的手机仍有该检查的事件未同步",
        "A member's phone still holds unsynced events of this visit",
    ),
    "visit.record_changed": Problem(
        409,
        "检查记录已变化，请刷新后再结束",
        "The record changed since you looked; reload before closing",
    ),
    # --- the inspection record as PDF (pdf/, docs/pdf.md) ---
    "pdf.no_record": Problem(
        409,
        "该检查尚无检查人员确认的当前检查记录，不能生成检查记录表",
        "No inspector has confirmed the visit's current record yet: no PDF",
    ),
    "pdf.font_missing": Problem(
        503,
        "服务器缺少中文字体，暂时无法生成检查记录表",
        "No CJK font on the server (install fonts-wqy-microhei or set ONEVISIT_CJK_FONT)",
    ),
    # --- the draw (planning/draw.py, DRAW.md) ---
    "draw.invalid": Problem(
        400, "抽取参数或抽取记录不正确", "The draw's inputs or record are invalid"
    ),
    "draw.short": Problem(
        409,
        "部门可派检查人员不足（含协作部门），无法完成匹配",
        "A department has too few inspectors, even with its partners",
    ),
    "draw.exists": Problem(
        409, "该任务已完成承诺，不能重新抽取", "This task's draw is already committed"
    ),
    "draw.not_committed": Problem(
        409, "该任务尚未提交抽取承诺", "This task's draw is not committed yet"
    ),
    "draw.done": Problem(
        409, "该任务已完成抽取，抽取不可重做", "This task is already drawn; draws are never re-run"
    ),
    "draw.not_drawn": Problem(409, "该任务尚未抽取", "This task is not drawn yet"),
    "draw.not_published": Problem(
        404, "该任务尚无公开的抽取记录", "No draw record is published for this task"
    ),
    "draw.unrevealed": Problem(
        409,
        "仍有承诺方未公开其秘密值（可等待，或记为未公开）",
        "A committing party has not revealed its secret (wait, or record it as not revealed)",
    ),
    "draw.reveal_pending": Problem(
        409,
        "承诺方的揭示期限未到，不能记为未揭示",
        "A party's reveal deadline has not passed; it cannot be recorded as not revealed yet",
    ),
    "draw.reveal_late": Problem(
        409,
        "已过揭示期限，不再接受秘密值（该方记为未揭示）",
        "The reveal deadline has passed; the party is recorded as not revealed",
    ),
    "draw.busy": Problem(
        409, "抽取期间状态不断变化，请稍后重试", "The draw kept changing while computing; retry"
    ),
    "draw.secret_mismatch": Problem(
        400, "公开的秘密值与其承诺不符", "The revealed secret does not match its commitment"
    ),
    "result.unknown": Problem(404, "检查结果不存在或未公示", "Unknown or unpublished result"),
    "result.invalid": Problem(400, "检查结果内容不正确", "The result is invalid"),
    "result.state": Problem(
        409, "检查结果当前状态不允许此操作", "The result's state does not allow this step"
    ),
    "result.not_reviewed": Problem(
        409, "检查结果未经审核通过，不能公示", "A result is published only after its review"
    ),
    "result.withhold_unapproved": Problem(
        400,
        "不予公示须经部门负责人批准并说明理由",
        "Withholding needs the approving leader's name and a reason",
    ),
    # --- follow-up of results (followup/, docs/followup.md) ---
    "followup.unknown": Problem(404, "后续处置事项不存在", "Unknown follow-up"),
    "followup.invalid": Problem(400, "后续处置内容不正确", "The follow-up is invalid"),
    "followup.state": Problem(
        409, "后续处置当前状态不允许此操作", "The follow-up's state does not allow this step"
    ),
    "task.unknown": Problem(404, "检查任务不存在", "Unknown task"),
    "plan.unknown": Problem(404, "抽查计划不存在", "Unknown plan"),
    "plan.invalid": Problem(400, "抽查计划内容不正确", "The plan is invalid"),
    "plan.exists": Problem(409, "抽查计划编号已存在", "A plan with this code exists"),
    "task.invalid": Problem(400, "检查任务内容不正确", "The task is invalid"),
    "task.exists": Problem(409, "检查任务编号已存在", "A task with this code exists"),
    "draw.ratio_cap": Problem(
        400,
        "抽取比例超过一般检查事项的比例上限",
        "The draw's ratio exceeds a general matter's cap",
    ),
    "swap.invalid": Problem(400, "人员调换申请不正确", "The swap is invalid"),
    "swap.visit_started": Problem(
        409,
        "该检查已开始记录，不能再调换人员",
        "This visit has begun; its group can no longer change",
    ),
    "swap.no_candidate": Problem(
        409, "没有符合条件的替换人员", "No eligible inspector can take this place"
    ),
    # --- the working-day calendar (workdays/, docs/calendar.md) ---
    "calendar.bad_file": Problem(
        400,
        "工作日历文件无法读取（仅支持 UTF-8 或 GB18030 编码的 CSV，或 JSON）",
        "Unreadable calendar file (CSV in UTF-8 or GB18030, or JSON)",
    ),
    "calendar.rows_invalid": Problem(
        422, "工作日历文件中有错误行，未导入任何数据", "Some rows are invalid; nothing was imported"
    ),
    "calendar.date_invalid": Problem(
        400, "日期须为 YYYY-MM-DD 格式的有效日期", "The date must be a valid YYYY-MM-DD date"
    ),
    "calendar.year_invalid": Problem(
        400, "年份须在 2000 至 2099 之间", "The year must be between 2000 and 2099"
    ),
    "calendar.kind_invalid": Problem(
        400,
        "类型须为 holiday（工作日放假）或 workday（周末调休上班）",
        "The kind must be holiday (a weekday off) or workday (a weekend day worked)",
    ),
    "calendar.name_invalid": Problem(
        400, "名称须为 1 至 64 个字符（如“国庆节”）", "The name must be 1-64 characters"
    ),
    "calendar.workday_weekday": Problem(
        400,
        "调休上班日须为周六或周日（周一至周五本就上班）",
        "A make-up working day must be a Saturday or Sunday (weekdays are worked anyway)",
    ),
    "calendar.duplicate_date": Problem(400, "同一日期出现多次", "The same date appears twice"),
    "calendar.year_partial": Problem(
        400,
        "该年份的放假日少于 10 个工作日，不像完整的一年（文件须包含整年的全部安排）",
        "Fewer than 10 weekday holidays: not a whole year (a file must cover whole years)",
    ),
    # --- the dashboard (dashboard/, docs/dashboard.md) ---
    "dashboard.invalid": Problem(
        400, "统计条件不正确（年份 2000–2099，部门编号）", "Bad filter (year 2000-2099, department)"
    ),
}


class AppError(Exception):
    """A failure with a stable code from CATALOGUE. `details` is machine-readable context."""

    def __init__(self, code: str, detail: str | None = None, **details: Any) -> None:
        if code not in CATALOGUE:  # a typo in a code is a bug, not a new problem
            raise KeyError(f"unknown error code {code!r}")
        self.code = code
        self.problem = CATALOGUE[code]
        self.detail = detail
        self.details = details
        super().__init__(f"{code}: {detail or self.problem.en}")

    @property
    def status(self) -> int:
        return self.problem.status

    def to_body(self) -> dict[str, Any]:
        message = self.problem.zh if not self.detail else f"{self.problem.zh}：{self.detail}"
        return {
            "code": self.code,
            "message": message,
            "message_en": self.problem.en,
            "details": self.details,
        }
