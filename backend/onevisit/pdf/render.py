"""Draw a Sheet (sheet.py) as the inspection record form (检查记录表): A4, one embedded CJK
font (fpdf2 keeps only the glyphs used), tables that flow over as many pages as needed with
their headings repeated, and on every page a footer with the short code, the page number and
the retention period (002:25: files are kept at least 2 years).

Pure apart from reading the font file: bytes in (the Sheet's thumbnails), bytes out.
Blocking (fpdf2 parses the 5 MB font, ~0.2 s): call through asyncio.to_thread.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import qrcode
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace
from qrcode.constants import ERROR_CORRECT_M

from onevisit.field import codes
from onevisit.media.watermark import CHINA
from onevisit.pdf.sheet import Sheet

__all__ = ["FontUnusable", "render_pdf"]

FONT = "cjk"
MARGIN = 15.0  # mm
WIDTH = 210.0 - 2 * MARGIN
QR_SIZE = 32.0  # mm: a phone reads ~100 characters at this size from a printout
GREY = 90
HEAD = FontFace(emphasis="", fill_color=(235, 235, 235))
SMALL = FontFace(size_pt=7)
RETENTION = "保存期限不少于2年"
ROLES = {"leader": "组长", "member": "组员"}


class FontUnusable(Exception):
    """The font file exists but cannot be embedded (not TrueType, damaged)."""


def render_pdf(sheet: Sheet, *, font: Path) -> bytes:
    pdf = _RecordPdf(sheet, font)
    pdf.add_page()
    pdf.heading_block()
    pdf.subject_and_task()
    pdf.members()
    pdf.matters()
    pdf.observations()
    pdf.photos()
    pdf.sign_off()
    pdf.confirmations()
    pdf.verification()
    return bytes(pdf.output())


def when(ms: int | None) -> str:
    """Device time in Beijing time, to the minute (what a paper form records)."""
    if ms is None:
        return ""
    return f"{datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(CHINA):%Y-%m-%d %H:%M}"


def qr_png(text: str) -> bytes:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=6, border=4)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()


def _label(table: tuple[tuple[str, str], ...], code: str | None) -> str:
    """The Chinese label, and the code itself when a later list no longer has it."""
    if not code:
        return ""
    try:
        return codes.label(table, code)
    except KeyError:
        return code


class _RecordPdf(FPDF):
    def __init__(self, sheet: Sheet, font: Path) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.sheet = sheet
        self.record: dict[str, Any] = sheet.record
        try:  # a .ttc holds several faces: the first is the proportional one
            self.add_font(FONT, fname=str(font), collection_font_number=0)
        except Exception as exc:  # fontTools raises many kinds for a file that is no font
            raise FontUnusable(str(font)) from exc
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.set_font(FONT, size=10)
        self.set_lang("zh-CN")
        self.set_title(f"检查记录表 {sheet.short_code}")
        self.set_subject(self.record["subject"]["name"])
        self.set_creator("OneVisit")
        self.set_producer("OneVisit")
        latest = max((c.at for c in sheet.confirmations if c.at), default=0)
        # The date of the last confirmation, not of printing: the same record prints the same.
        self.set_creation_date(datetime.fromtimestamp(latest / 1000, tz=UTC))
        self.members_by_code = {m["inspector"]: m for m in self.record["members"]}

    # --- page furniture --------------------------------------------------------------------
    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=8)
        self.set_text_color(GREY)
        text = (
            f"检查记录表 · 记录短码 {self.sheet.short_code} · 第 {self.page_no()} 页 / "
            f"共 {{nb}} 页 · {RETENTION}"
        )
        self.cell(0, 5, text, align="C")
        self.set_text_color(0)

    def section(self, title: str) -> None:
        if self.will_page_break(20):  # never a heading alone at the foot of a page
            self.add_page()
        self.ln(3)
        self.set_font(FONT, size=12)
        self.cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(120)
        self.line(MARGIN, self.get_y(), MARGIN + WIDTH, self.get_y())
        self.set_draw_color(0)
        self.ln(1.5)
        self.set_font(FONT, size=9.5)

    def paragraph(self, text: str, *, size: float = 9.5) -> None:
        self.set_font(FONT, size=size)
        self.multi_cell(WIDTH, 5, text, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=9.5)

    def grid(
        self, head: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float]
    ) -> None:
        """A table whose rows break across pages, the heading row repeated on each page.
        A cell is text, or (text, FontFace) for a cell in its own style."""
        with self.table(
            col_widths=tuple(widths), width=WIDTH, headings_style=HEAD, line_height=5,
            text_align="LEFT", wrapmode=WrapMode.CHAR, padding=1,
        ) as table:  # fmt: skip
            row = table.row()
            for text in head:
                row.cell(text)
            for values in rows:
                row = table.row()
                for value in values:
                    if isinstance(value, tuple):
                        row.cell(value[0], style=value[1])
                    else:
                        row.cell(str(value))

    def who(self, code: str) -> str:
        member = self.members_by_code.get(code)
        return member["name"] if member else code

    def department(self, code: str) -> str:
        name = self.sheet.departments.get(code)
        return f"{name}（{code}）" if name and name != code else code

    def thumbnail(self, sha256: str | None, *, w: float, h: float) -> bool:
        """Draw the thumbnail at the cursor (left margin); False when it is not on the server."""
        data = self.sheet.images.get(sha256 or "")
        if data is None:
            return False
        if self.will_page_break(h + 2):
            self.add_page()
        self.image(io.BytesIO(data), x=MARGIN, y=self.get_y(), w=w, h=h, keep_aspect_ratio=True)
        self.set_y(self.get_y() + h + 1)
        return True

    # --- the form --------------------------------------------------------------------------
    def heading_block(self) -> None:
        sheet = self.sheet
        top = self.get_y()
        self.image(
            io.BytesIO(qr_png(sheet.verify_url)), x=MARGIN + WIDTH - QR_SIZE, y=top - 3,
            w=QR_SIZE, h=QR_SIZE, alt_text=sheet.verify_url,
        )  # fmt: skip
        self.set_font(FONT, size=8)
        self.set_xy(MARGIN + WIDTH - QR_SIZE, top + QR_SIZE - 3)
        self.cell(QR_SIZE, 4, f"扫码核验 · {sheet.short_code}", align="C")
        self.set_xy(MARGIN, top + 2)
        self.set_font(FONT, size=20)
        self.cell(WIDTH - QR_SIZE, 11, "检查记录表", align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=9.5)
        self.cell(
            WIDTH - QR_SIZE, 6, "“双随机、一公开”联合检查 · 现场检查记录", align="C",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )  # fmt: skip
        self.set_font(FONT, size=11)
        self.cell(
            WIDTH - QR_SIZE, 7, f"记录短码：{sheet.short_code}", align="C",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )  # fmt: skip
        self.set_y(top + QR_SIZE + 3)

    def subject_and_task(self) -> None:
        record = self.record
        subject, task = record["subject"], record["task"]
        arrivals = [c["at"] for c in record["checkins"]]
        self.section("一、检查对象与任务")
        self.grid(
            ("项目", "内容"),
            [
                ("检查对象名称", subject["name"]),
                ("统一社会信用代码/标识", subject["id"]),
                ("住所（经营场所）", subject.get("address", "")),
                ("抽查任务", f"{task.get('name', '')}（{task['code']}）"),
                ("检查日期", when(min(arrivals))[:10] if arrivals else "（无到场签到）"),
                ("检查编号", record["visit"]),
            ],
            (45, WIDTH - 45),
        )

    def members(self) -> None:
        record = self.record
        arrived = {}
        for c in record["checkins"]:
            place = f" · 距登记地 {c['distance_m']} 米" if "distance_m" in c else ""
            reason = f" · 无定位：{c['reason']}" if c.get("reason") else ""
            arrived[c["inspector"]] = f"{when(c['at'])}{place}{reason}"
        self.section("二、检查组")
        leader = [m["name"] for m in record["members"] if m["role"] == "leader"]
        self.paragraph(f"组长：{'、'.join(leader) or '（未指定）'}")
        self.grid(
            ("姓名", "编号", "部门", "执法证号", "职责", "到场"),
            [
                (
                    m["name"], m["inspector"], self.department(m["department"]),
                    m.get("certificate", ""), ROLES.get(m["role"], m["role"]),
                    arrived.get(m["inspector"], "未签到"),
                )
                for m in record["members"]
            ],
            (20, 22, 38, 30, 14, WIDTH - 124),
        )  # fmt: skip

    def matters(self) -> None:
        self.section("三、检查事项与结果")
        for number, m in enumerate(self.record["matters"], 1):
            if self.will_page_break(25):
                self.add_page()
            self.set_font(FONT, size=10.5)
            title = f"{number}. {m['name']}（{m['code']}） · {self.department(m['department'])}"
            self.multi_cell(
                WIDTH, 6, title, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            self.set_font(FONT, size=9.5)
            rows = []
            for i in m["items"]:
                if "result" in i:
                    result = _label(codes.ITEM_RESULTS, i["result"])
                    by = "、".join(self.who(b) for b in i["by"])
                    note = "；".join(x for x in (i.get("note", ""), f"记录人：{by}") if x)
                    if i["media"]:
                        note += f"；照片 {len(i['media'])} 张"
                elif "conflict" in i:
                    labels = "、".join(_label(codes.ITEM_RESULTS, c) for c in i["conflict"])
                    result, note = "结果不一致", f"各检查人员记录：{labels}（待更正）"
                else:
                    result, note = "未检查", ""
                rows.append((str(i["position"] + 1), i["text"], result, note))
            if rows:
                self.grid(("序号", "检查项目", "结果", "说明"), rows, (12, 78, 20, WIDTH - 110))
            self.paragraph(f"事项结论：{self._conclusion(m)}")
            self.ln(1)

    def _conclusion(self, m: dict[str, Any]) -> str:
        if "result_code" in m:
            text = _label(codes.RESULT_CODES, m["result_code"])
            if m.get("disposition"):
                text += f"；后续处置：{_label(codes.DISPOSITIONS, m['disposition'])}"
            if m.get("note"):
                text += f"；说明：{m['note']}"
            return text
        if "result_conflict" in m:
            labels = "、".join(_label(codes.RESULT_CODES, c) for c in m["result_conflict"])
            return f"结论不一致（{labels}），待更正"
        return "尚未作出结论"

    def observations(self) -> None:
        record = self.record
        rows = []
        for n in record["notes"]:
            rows.append((when(n["at"]), self.who(n["by"]), "情况说明", n["text"]))
        for t in record["transcripts"]:
            rows.append((when(t["at"]), self.who(t["by"]), "现场笔录", t["text"]))
        for s in record["special_outcomes"]:
            kind = f"特殊情形：{_label(codes.SPECIAL_OUTCOMES, s['code'])}"
            rows.append((when(s["at"]), self.who(s["by"]), kind, s["text"]))
        for c in record["corrections"]:
            rows.append(("", "", "更正", f"{c['reason']}（更正事件 {c['event']}）"))
        self.section("四、情况记录")
        if not rows:
            self.paragraph("无")
            return
        rows.sort(key=lambda r: r[0])
        self.grid(("时间", "记录人", "类别", "内容"), rows, (30, 20, 35, WIDTH - 85))

    def photos(self) -> None:
        photos = self.record["photos"]
        self.section(f"五、现场照片（{len(photos)} 张）")
        if not photos:
            self.paragraph("无")
            return
        self.paragraph("每张照片原件按其 SHA-256 保存，不可更改；缩略图仅供辨认。", size=8)
        with self.table(
            col_widths=(42, 58, WIDTH - 100), width=WIDTH, headings_style=HEAD, line_height=4.5,
            text_align="LEFT", wrapmode=WrapMode.CHAR, padding=1,
        ) as table:  # fmt: skip
            head = table.row()
            for text in ("缩略图", "说明", "原件 SHA-256"):
                head.cell(text)
            for p in photos:
                row = table.row()
                data = self.sheet.images.get(p["sha256"])
                if data is not None:
                    row.cell(img=io.BytesIO(data), img_fill_width=True)
                else:
                    row.cell("（原件尚未上传到服务器）")
                where = f"事项 {p['matter']}" if p.get("matter") else ""
                if "item" in p:
                    where += f" 第 {p['item'] + 1} 项"
                lines = [p.get("caption", ""), where, f"{self.who(p['by'])} · {when(p['at'])}"]
                row.cell("\n".join(x for x in lines if x))
                half = len(p["sha256"]) // 2  # two even lines rather than a ragged wrap
                row.cell(f"{p['sha256'][:half]}\n{p['sha256'][half:]}", style=SMALL)

    def sign_off(self) -> None:
        sheet = self.sheet
        self.section("六、当事人签字")
        if sheet.signature is None and sheet.refusal is None:
            self.paragraph("无针对本记录的当事人签字或拒签记录。")
        if (s := sheet.signature) is not None:
            self.paragraph(f"签字人：{s.signer_name}（{s.signer_role}） · 签字时间：{when(s.at)}")
            self.paragraph(f"当事人在签字前核对的记录短码：{sheet.short_code}")
            if not self.thumbnail(s.image_sha256, w=60, h=28):
                self.paragraph("（签字图像尚未上传到服务器）")
            self.paragraph(f"签字图像 SHA-256：{s.image_sha256}", size=8)
            self.paragraph(f"采集人：{s.collected_by}", size=8)
        if (r := sheet.refusal) is not None:
            self.paragraph(f"当事人未签字：{_label(codes.REFUSAL_REASONS, r.reason_code)}")
            self.paragraph(f"原因：{r.reason}")
            self.paragraph(f"见证人：{r.witness_name}")
            self.paragraph(f"记录时间：{when(r.at)} · 记录人：{r.recorded_by}")
            if r.witness_signature_sha256:
                self.paragraph("见证人签字：")
                self.thumbnail(r.witness_signature_sha256, w=50, h=22)
                self.paragraph(f"见证人签字图像 SHA-256：{r.witness_signature_sha256}", size=8)
            if r.photo_sha256:
                self.paragraph(f"拒签现场照片 SHA-256：{r.photo_sha256}", size=8)

    def confirmations(self) -> None:
        self.section("七、检查人员确认")
        rows = [
            (
                c.name, self.department(c.department), "组长" if c.leader else "组员",
                _label(codes.CONFIRMATION_METHODS, c.method) if c.method else "未确认",
                when(c.at),
            )
            for c in self.sheet.confirmations
        ]  # fmt: skip
        self.grid(("姓名", "部门", "职责", "确认方式", "确认时间"), rows, (22, 52, 16, 50, 40))
        self.paragraph(
            "确认即检查人员以通行密钥或设备密钥（PIN）对本记录哈希值签名，可在核验页逐一验证。",
            size=8,
        )

    def verification(self) -> None:
        sheet = self.sheet
        self.section("八、记录核验")
        self.paragraph(f"记录短码：{sheet.short_code}")
        self.paragraph("记录哈希（SHA-256）：", size=9)
        self.paragraph(sheet.record_hash, size=9)
        self.paragraph("核验地址（即首页二维码）：", size=9)
        self.paragraph(sheet.verify_url, size=9)
        self.paragraph(
            "记录哈希为本记录内容按 RFC 8785 规范化后的 SHA-256。核验页列出记录内容、"
            "各检查人员的确认、当事人签字或拒签，以及每项记录在防篡改日志中的包含证明。"
            f"本记录归档后不得修改、增加或删除，{RETENTION}。",
            size=8,
        )
