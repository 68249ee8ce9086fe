// UI strings: Chinese first, English on request (i18n-en.js). The choice is kept in
// localStorage because it is a per-phone preference, not data. t(key, vars) fills {name} placeholders.

const STORE_KEY = 'onevisit.lang';

const zh = {
  'app.title': 'OneVisit 一次上门',
  'app.loading': '加载中…',
  'app.retry': '重试',
  'app.offline': '无法连接服务器。请检查网络后重试。',
  'lang.switch': 'English',
  'lang.switch_label': '切换到英文',
  'lang.unavailable': '英文界面需联网后首次加载，现在仍用中文。English needs the network the first time.',
  'nav.home': '‹ 首页',
  'role.admin': '管理员',
  'role.coordinator': '协调员',
  'role.leader': '组长',
  'role.inspector': '检查员',
  'home.role': '角色',
  'home.department': '部门',
  'home.no_department': '全部部门',
  'home.storage': '离线存储',
  'home.storage_persisted': '已持久保存',
  'home.storage_best_effort': '未持久保存（空间不足时可能被清除）',
  'home.storage_unknown': '浏览器未提供此信息',
  'home.signout': '退出登录',
  'home.autosync': '联网时自动同步',
  'home.offline': '离线工作中：新记录已签名保存在本机，联网后自动同步。',
  'home.device_key': '设备密钥',
  'home.device_key_yes': '已登记',
  'home.device_key_none': '未登记',
  'tile.subjects': '检查对象库',
  'tile.inspectors': '执法人员库',
  'tile.matters': '抽查事项清单',
  'tile.import': '导入',
  'tile.users': '用户与注册码',
  'tile.tasks': '抽查任务',
  'tile.plans': '年度抽查计划',
  'tile.results': '检查结果与公示',
  'tile.dashboard': '统计看板',
  'kind.enterprise': '企业',
  'kind.individual': '个体工商户',
  'kind.cooperative': '农民专业合作社',
  'kind.organisation': '其他组织',
  'kind.product': '产品',
  'kind.project': '项目',
  'kind.behaviour': '行为',
  'err.network': '网络不可用，无法连接服务器',
  'err.http': '服务器返回了错误',
  'err.cancelled': '操作已取消或超时',
  'err.passkey_exists': '本机已有该账号的通行密钥',
  'err.unexpected': '意外错误',
  'err.role': '当前角色无权打开此页面',
  'err.not_found': '页面不存在',
  'tile.visits': "我的检查任务",
  'visits.title': "我的检查任务",
  'visits.offline': "离线：显示本机已下载的任务。",
  'visits.none': "暂无分派给您的检查任务。",
  'visits.none_offline': "本机没有已下载的任务。联网后下载任务包即可离线使用。",
  'visits.downloaded': "已下载（{at}）",
  'visits.not_downloaded': "未下载",
  'visits.open': "打开",
  'visits.download': "下载离线任务包",
  'visits.refresh': "重新下载任务包",
  'visits.download_ok': "已下载：{name}",
  'visits.order': "第 {n} 户",
  'visits.dayplan': "安排行程",
  'visit.title': "检查任务",
  'visit.not_downloaded': "本机没有此任务的离线任务包。请联网后在“我的检查任务”中下载。",
  'visit.credential': "亮证",
  'visit.record': "检查记录与签字",
  'visit.team': "组长视图",
  'visit.handover': "离线交换数据",
  'visit.subject': "检查对象",
  'visit.address': "住所",
  'visit.credit': "信用风险分类",
  'visit.flags': "提示",
  'visit.flag_abnormal': "列入经营异常名录",
  'visit.flag_serious': "列入严重违法失信名单",
  'visit.last_inspected': "上次检查",
  'visit.members': "检查组",
  'visit.notice': "告知书（权利义务）",
  'visit.matters': "抽查事项",
  'visit.photos': "现场照片",
  'visit.notes': "备注与现场笔录",
  'visit.special': "特殊情形",
  'visit.events': "本机记录（同步状态）",
  'checkin.title': "到达签到",
  'checkin.button': "签到（获取位置）",
  'checkin.again': "再次签到",
  'checkin.not_yet': "您尚未签到",
  'checkin.done': "已签到 {at}，距登记住所 {distance} 米，精度 {accuracy} 米",
  'checkin.present': "已签到 {n}/{total} 人",
  'checkin.two_yes': "至少两名检查人员在场",
  'checkin.two_no': "在场检查人员不足两名",
  'checkin.reason': "无法定位的原因",
  'checkin.reason_needed': "请填写无法定位的原因",
  'checkin.save_without': "不带位置签到",
  'checkin.no_position': "无法获取位置",
  'checkin.saved': "已签到",
  'field.choose': "请选择…",
  'field.colleague': "同组人员",
  'field.photo_alt': "照片 {hash}",
  'field.saved': "已保存",
  'photo.caption': "照片说明（可选）",
  'photo.take': "拍照或选择照片",
  'photo.saved': "照片已保存",
  'note.kind': "类型",
  'note.kind_note': "备注",
  'note.kind_transcript': "现场笔录",
  'note.text': "内容",
  'note.save': "保存",
  'note.empty': "内容不能为空",
  'special.intro': "无法正常检查时（查无下落、已注销、拒绝检查等），记录情形并拍照取证。",
  'special.code': "情形",
  'special.text': "情况说明",
  'special.photo': "取证照片",
  'special.save': "保存特殊情形",
  'special.incomplete': "请选择情形并填写说明",
  'special.saved': "特殊情形已保存",
  'matter.back': "‹ 返回任务",
  'matter.progress': "已检查 {n}/{total} 项",
  'matter.progress_label': "{name} 进度",
  'matter.conflicts': "{n} 项结果不一致",
  'matter.other_department': "其他部门事项",
  'matter.read_only': "此事项属于其他部门，仅可查看。",
  'matter.result': "事项检查结果",
  'matter.result_code': "结果",
  'matter.disposition': "后续处置",
  'matter.no_result': "尚未填写",
  'matter.result_conflict': "检查人员结果不一致",
  'matter.result_needed': "请选择结果",
  'matter.result_save': "保存事项结果",
  'item.compliant': "符合",
  'item.non_compliant': "不符合",
  'item.not_applicable': "不适用",
  'item.unanswered': "未检查",
  'item.in_conflict': "结果不一致",
  'item.conflict': "结果不一致：{answers}。请复核后由答错的人员重新选择。",
  'item.note': "说明",
  'item.note_required': "“不符合”须填写说明",
  'item.photo': "本项照片",
  'item.saved': "第 {n} 项已保存",
  'item.correct': "复核更正我的结果",
  'item.correct_result': "更正后的结果",
  'item.correct_reason': "更正理由",
  'item.correct_reason_needed': "请填写更正理由",
  'item.correct_save': "保存更正",
  'item.corrected': "第 {n} 项已更正",
  'record.title': "检查记录",
  'record.short_code': "记录核对码",
  'record.task': "任务",
  'record.members': "检查人员",
  'record.checkins': "到场",
  'record.none': "无",
  'record.pdf': "打印检查记录 (PDF)",
  'record.saving': "正在保存…",
  'record.changed': "记录已更新，请重新核对",
  'sign.title': "被检查对象签字",
  'sign.compare': "请被检查对象核对记录核对码 {code} 后签字。",
  'sign.name': "签字人姓名",
  'sign.role': "签字人身份",
  'sign.pad': "在此签名",
  'sign.clear': "清除重签",
  'sign.save': "保存签字",
  'sign.incomplete': "请填写签字人姓名和身份",
  'sign.empty': "请先签名",
  'sign.saved': "签字已保存",
  'sign.done': "被检查对象已签字",
  'refuse.title': "拒绝签字或无法签字",
  'refuse.intro': "须写明原因，并由见证人见证（姓名必填）。",
  'refuse.code': "原因类别",
  'refuse.reason': "原因说明",
  'refuse.witness': "见证人",
  'refuse.witness_name': "见证人姓名",
  'refuse.witness_id': "见证人证件号（可选）",
  'refuse.witness_phone': "见证人电话（可选）",
  'refuse.witness_role': "见证人身份（可选）",
  'refuse.witness_signature': "见证人签名（可选）",
  'refuse.photo': "现场照片（可选）",
  'refuse.save': "保存拒签记录",
  'refuse.incomplete': "拒签须有原因类别、原因说明和见证人姓名",
  'refuse.saved': "拒签记录已保存",
  'refuse.done': "已记录拒签",
  'confirm.title': "检查人员确认",
  'confirm.wait': "被检查对象签字或记录拒签后才能确认。",
  'confirm.with_passkey': "用通行密钥确认记录",
  'confirm.use_pin': "改用 PIN 码确认",
  'confirm.pin': "PIN 码",
  'confirm.with_pin': "用设备密钥和 PIN 确认",
  'confirm.no_pin': "本机没有设置 PIN 码的设备密钥。请使用通行密钥确认。",
  'confirm.pin_wrong': "PIN 码不正确",
  'confirm.no_webauthn': "此浏览器不支持通行密钥，请用 PIN 码确认。",
  'confirm.saved': "已确认记录",
  'confirm.done': "您已确认此记录",
  'confirm.me': "我",
  'confirm.stale': "记录已变化，需重新确认",
  'confirm.webauthn': "通行密钥",
  'confirm.device_pin': "设备密钥+PIN",
  'confirm.visit': "任务 {id}",
  'credential.title': "亮证",
  'credential.none': "没有可出示的证件：您不是此任务检查组成员，或任务包下载于旧版本。请联网后重新下载任务包。",
  'credential.certificate': "执法证号",
  'credential.qr_alt': "亮证二维码：被检查对象扫码核验",
  'credential.valid_until': "有效期至 {at}",
  'credential.expired': "此二维码已过期，请联网后重新下载任务包。",
  'credential.help': "请被检查对象用任意手机扫码，核验检查人员身份及本次检查任务的真实性。",
  'handover.title': "离线交换数据",
  'handover.intro': "没有网络时，检查组成员可把本机本次检查的记录保存为文件，通过蓝牙或近场分享交给组长；组长打开文件后，记录中即包含全组的检查结果。每条记录都用成员登记的设备密钥核验。",
  'handover.export': "保存本机记录为文件",
  'handover.exported': "文件已生成",
  'handover.import': "打开同组人员的文件",
  'handover.import_button': "导入",
  'handover.choose': "请先选择文件",
  'handover.working': "正在核验并导入…",
  'handover.imported': "已导入 {n} 条记录，{bad} 条未通过核验",
  'team.title': "组长视图",
  'team.offline': "离线：只显示本机已知的数据。",
  'team.member': "成员",
  'team.checked_in': "签到",
  'team.answers_here': "本机已知结果",
  'team.answers_server': "服务器已收结果",
  'team.last_receipt': "服务器最近收到",
  'team.conflicts': "待解决的分歧",
  'team.no_conflicts': "没有分歧",
  'team.as_of': "服务器数据时间：{at}",
  'team.pending': "手机未同步",
  'team.not_reported': "未上报",
  'team.confirmation': "确认",
  'team.confirmation_current': "已确认",
  'team.confirmation_stale': "需重新确认",
  'team.confirmation_missing': "未确认",
  'team.close': "结束检查",
  'team.close_button': "结束本次检查",
  'team.closed': "检查已结束",
  'team.closed_by': "{name} 于 {at} 结束",
  'team.after_close': "结束后又收到 {n} 条记录",
  'sync.waiting': "待同步 {n}",
  'sync.all_verified': "已全部同步",
  'sync.rejected_n': "{n} 条被拒",
  'sync.last_ok': "上次同步成功：{at}",
  'sync.never': "尚未同步",
  'sync.signin_needed': "需重新登录后同步",
  'sync.failed': "同步失败，点击重试",
  'sync.queued': "待上传",
  'sync.uploading': "上传中",
  'sync.verified': "已核验",
  'sync.rejected': "被拒绝",
  'sync.peer': "同组交换",
  'event.checkin': "签到",
  'event.item_result': "检查项结果",
  'event.matter_result': "事项结果",
  'event.photo': "照片",
  'event.note': "备注",
  'event.transcript': "现场笔录",
  'event.witness': "见证人",
  'event.signature': "签字",
  'event.signature_refused': "拒签",
  'event.special_outcome': "特殊情形",
  'event.record_confirmed': "确认记录",
  'event.correction': "更正",
  'problem.presence.fewer_than_two': "签字时在场检查人员不足两名",
  'problem.item.conflict': "有检查项结果不一致",
  'problem.checkin.far': "签到位置距登记住所超过 500 米",
  'problem.checkin.inaccurate': "签到定位精度差（超过 100 米）",
  'nav.sections': "功能",
  'sync.now': "立即同步",
  'team.checked_yes': "已签到",
  'team.checked_no': "未签到",
  'visit.actions': "本次检查",
  'sign.pad_hint': "用手指或触控笔在框内书写；写错可清除重签。",
  'sign.pad_empty': "尚未签名",
  'sign.pad_drawn': "已签名（{n} 笔）",
  'home.rescue': "导出未同步数据（救援）",
  'home.rescue_help': "手机无法同步时，把尚未核验的记录和照片存为一个文件，交管理员导入。",
  'home.rescue_done': "救援文件已生成：{n} 条事件",
  'home.rescue_empty': "没有未同步的数据",
  'matter.result_proposed': "根据特殊情形“{outcome}”建议的结果，保存前请核对。",
};

// English is fetched only when chosen (the service worker keeps it for offline use from
// then on): the shell a field phone downloads carries one language.
const DICTS = { zh, en: null };
const laterEn = {}; // English of screens loaded on demand (addStrings), merged when en loads

function wanted() {
  try {
    return localStorage.getItem(STORE_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh'; // storage blocked: Chinese is the default
  }
}

/** The language the screens are in: English once its strings are loaded, else Chinese. */
export function lang() {
  return wanted() === 'en' && DICTS.en ? 'en' : 'zh';
}

/** Loads the chosen language's strings (call before rendering). Offline with English never
 * fetched, the screens stay Chinese rather than show keys; the next start online loads it. */
export async function loadLang() {
  if (wanted() === 'en' && !DICTS.en) {
    try {
      DICTS.en = { ...(await import('./i18n-en.js')).default, ...laterEn };
    } catch (err) {
      console.warn('English strings not available offline yet', err);
    }
  }
  applyLang();
}

/** Switches language; false when English could not be loaded (offline before it was ever
 * fetched): the phone then stays on Chinese. */
export async function setLang(value) {
  localStorage.setItem(STORE_KEY, value === 'en' ? 'en' : 'zh');
  await loadLang();
  if (lang() === wanted()) return true;
  localStorage.setItem(STORE_KEY, 'zh');
  return false;
}

/** Strings a screen loaded on demand brings with it: {zh: {...}, en: {...}}. */
export function addStrings(strings) {
  Object.assign(zh, strings.zh);
  Object.assign(laterEn, strings.en);
  if (DICTS.en) Object.assign(DICTS.en, strings.en);
}

export function applyLang() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
}

export function t(key, varsOrLang, maybeLang) {
  const vars = typeof varsOrLang === 'object' ? varsOrLang : {};
  const which = typeof varsOrLang === 'string' ? varsOrLang : maybeLang || lang();
  const text = DICTS[which]?.[key] ?? zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** Dates from the API (ISO 8601) in the phone's time zone. */
export function formatTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN');
}
