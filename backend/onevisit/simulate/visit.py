"""What one phone does at one joint visit: check in near the subject, answer every item of its
served matter, the matter's result, photos, a note; the leader has the subject sign the record;
everyone confirms it with the device PIN. Times (`at`) follow a compressed visit timeline."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from onevisit.simulate.device import SimPhone
from onevisit.simulate.media import MediaBlob, UploadStats, photo_jpeg, signature_png, upload
from onevisit.simulate.setup import Plan, PlannedVisit

__all__ = ["VisitRun", "do_visit"]

MINUTE = 60_000
NOTES = ("现场检查时负责人在场，配合检查。", "经营场所整洁，相关证照已悬挂公示。",
         "已向当事人告知检查依据和结果。", "现场调取了近三个月的台账记录。")  # fmt: skip
FINDINGS = ("台账记录不完整", "未按规定公示相关信息", "现场发现过期标签", "证照信息与实际不符",
            "安全警示标识缺失")  # fmt: skip


@dataclass
class VisitRun:
    """Shared by the phones of one visit: the planned visit, its timeline and barriers."""

    plan: Plan
    visit: PlannedVisit
    start_ms: int  # the visit's (virtual) start on the phones' clocks
    barrier: asyncio.Barrier
    seed: int
    photos: bool
    fault_rate: float
    media: UploadStats
    record_hashes: dict[int, str]  # member index → the hash it confirmed
    signed_hash: str | None = None

    def answers(self, matter: str) -> list[tuple[str, str | None]]:
        """(result, note) per item of a matter: the same for every inspector serving it."""
        rng = random.Random(f"{self.seed}:{self.visit.index}:{matter}")
        out: list[tuple[str, str | None]] = []
        for _ in range(self.plan.items[matter]):
            r = rng.random()
            if r < 0.15:
                out.append(("non_compliant", rng.choice(FINDINGS)))
            elif r < 0.25:
                out.append(("not_applicable", None))
            else:
                out.append(("compliant", None))
        return out


class _Clock:
    def __init__(self, start: int, rng: random.Random) -> None:
        self.t, self.rng = start, rng

    def tick(self, lo: int = 20, hi: int = 180) -> int:
        self.t += self.rng.randrange(lo, hi) * 1000
        return self.t


async def _photo(
    phone: SimPhone, run: VisitRun, clock: _Clock, caption: str, matter: str | None = None,
    item: int | None = None,
) -> None:  # fmt: skip
    rng = phone.rng
    label = f"{run.visit.subject_name} {caption} #{phone.member.index}-{clock.t}"
    blob = MediaBlob(photo_jpeg(rng, label=label), "image/jpeg")
    if not await upload(phone.client, blob, purpose="photo", stats=run.media,
                        chunks=rng.choice((2, 2, 3)),
                        drop_after_first=rng.random() < phone.offline_rate):  # fmt: skip
        phone._unexpected(f"photo upload refused: {run.media.refused}")
        return
    body: dict[str, object] = {"media": blob.ref(), "caption": caption}
    if matter is not None:
        body["matter"] = matter
        if item is not None:
            body["item"] = item
    await phone.record("photo", body, visit=run.visit.visit, at=clock.tick(10, 40))


async def _fieldwork(phone: SimPhone, run: VisitRun, clock: _Clock, first_of_matter: bool) -> None:
    rng, v, member = phone.rng, run.visit, phone.member
    visit = v.visit
    checkin = {
        "lat_e6": v.lat_e6 + rng.randrange(-400, 400),  # within ~50 m
        "lon_e6": v.lon_e6 + rng.randrange(-400, 400),
        "accuracy_m": rng.randrange(5, 40),
        "source": "gps",
    }
    await phone.record("checkin", checkin, visit=visit, at=clock.tick(0, 5))
    if run.photos and first_of_matter and member.index == v.members[0]:
        await _photo(phone, run, clock, "经营场所门头")
    matter = run.plan.matters[member.department]
    answers = run.answers(matter)
    for position, (result, note) in enumerate(answers):
        if rng.random() < run.fault_rate:  # a tap on another department's tab: refused
            foreign = next(m for d, m in run.plan.matters.items() if d != member.department)
            await phone.record(
                "item_result", {"matter": foreign, "item": 0, "result": "compliant"},
                visit=visit, at=clock.tick(5, 20), fault=True,
            )  # fmt: skip
        body: dict[str, object] = {"matter": matter, "item": position, "result": result}
        if note:
            body["note"] = note
        await phone.record("item_result", body, visit=visit, at=clock.tick())
        if run.photos and result == "non_compliant" and first_of_matter:
            await _photo(phone, run, clock, f"问题：{note}", matter, position)
    if first_of_matter:
        problems = sum(r == "non_compliant" for r, _ in answers)
        result = {"matter": matter, "result_code": "corrected" if problems else "no_problem",
                  "disposition": "order_correction" if problems else "none"}  # fmt: skip
        if problems:
            result["note"] = f"发现{problems}项问题，已责令当场改正"
        await phone.record("matter_result", result, visit=visit, at=clock.tick())
    await phone.record(
        "note", {"text": rng.choice(NOTES), "matter": matter}, visit=visit, at=clock.tick()
    )
    await phone.go_online()


async def _record_hash(phone: SimPhone, visit: str) -> str:
    r = await phone.client.get(f"/api/visits/{visit}")
    if r.status_code != 200:
        raise RuntimeError(f"GET /api/visits/{visit}: {r.status_code} {r.text[:200]}")
    return r.json()["record_hash"]


async def _sign(phone: SimPhone, run: VisitRun, clock: _Clock) -> None:
    """The leader shows the record's short code; the subject's representative signs."""
    record_hash = await _record_hash(phone, run.visit.visit)
    png, strokes = signature_png(phone.rng, signer=run.visit.signer)
    image = MediaBlob(png, "image/png")
    if not await upload(phone.client, image, purpose="signature", stats=run.media):
        phone._unexpected(f"signature upload refused: {run.media.refused}")
    # docs/media.md accepts only images for "signature": the strokes JSON is refused (reported);
    # the body contract requires the reference, so the event names it all the same.
    await upload(phone.client, MediaBlob(strokes, "application/json"), purpose="signature",
                 stats=run.media)  # fmt: skip
    body = {"record_hash": record_hash, "signer_name": run.visit.signer,
            "signer_role": "法定代表人", "image": image.ref(),
            "strokes": MediaBlob(strokes, "application/json").ref()}  # fmt: skip
    await phone.record("signature", body, visit=run.visit.visit, at=clock.tick(60, 120))
    await phone.go_online()
    run.signed_hash = record_hash


async def do_visit(phone: SimPhone, run: VisitRun) -> None:
    v, index = run.visit, phone.member.index
    clock = _Clock(run.start_ms + phone.rng.randrange(0, 90) * 1000, phone.rng)
    served = [i for i in v.members if run.plan.members[i].department == phone.member.department]
    await _fieldwork(phone, run, clock, first_of_matter=served[0] == index)
    await run.barrier.wait()  # every member's work is on the server
    clock.t = max(clock.t, run.start_ms + 70 * MINUTE)
    if index == v.members[0]:
        await _sign(phone, run, clock)
    await run.barrier.wait()  # the record is signed
    record_hash = await _record_hash(phone, v.visit)
    run.record_hashes[index] = record_hash
    body = {"record_hash": record_hash, "method": "device_pin"}
    await phone.record("record_confirmed", body, visit=v.visit, at=clock.tick(120, 300))
    await phone.go_online()
