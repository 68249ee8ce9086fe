"""The rights-and-obligations notice (告知书) that the group reads to the subject on arrival
(002:20(二): 表明身份、出示执法证件，告知被检查对象的权利和义务). Constant text, shipped in every
visit package (field/package.py) so a phone with no signal can still show and read it.

Where each paragraph comes from (the seed documents: "002:20" = seed 002, article 20; "004:(七)"
= seed 004, section (七)):
  1. random draw of subject and inspectors, one visit for several departments' matters:
     002:2, 002:20(二) (各有关部门的抽查检查事项，原则上应当一并实施检查), 004:(十)
  2. at least two inspectors who show their certificates: 002:20(二), 003:10, 004:(七);
     the QR code check is this system's 亮证 page (docs/visits.md)
  3. recusal (回避) where an inspector has an interest in the subject: 004:(七), 002:17
  4. stating and explaining one's case (陈述、申辩): not spelt out in the seeds; it is the
     general right of a party in administrative enforcement, and the seeds require the record
     to be written truthfully (002:20(三), 003:10). The text promises only that: what is said
     is recorded as said.
  5. checking and signing the record, or the reason noted and a witness invited: 002:20(三),
     003:10
  6. confidentiality: 004:(八) names trade secrets and personal privacy as protected in
     publication; the promise here is limited to that (依法予以保密)
  7. results published within 20 working days, wrong published information corrected:
     002:20(三), 003:14, 003:16, 004:(八)
  8. cooperating truthfully, and what counts as refusing: 003:11, 003:12 (一)–(四)
  9. consequence of serious non-cooperation: 002:21, 003:12
 10. photographs and video of the inspection: 002:20(二)
"""

from __future__ import annotations

__all__ = ["NOTICE", "NOTICE_EN", "NOTICE_ZH"]

NOTICE_ZH = "\n\n".join(
    (
        "检查告知书",
        "根据市场监管领域部门联合“双随机、一公开”抽查工作的规定，现将本次检查的有关事项告知如下：",
        (
            "一、本次检查是部门联合随机抽查任务。检查对象和执法检查人员均经随机抽取、"
            "随机匹配产生；联合检查组一次上门，对本次任务确定的各部门抽查事项逐项进行检查。"
        ),
        (
            "二、执法检查人员不少于两人，已向您出示执法证件。"
            "您可以用手机扫描检查人员出示的二维码，"
            "核验其姓名、所属部门、执法证号以及本次检查任务的真实性。"
        ),
        (
            "三、执法检查人员与您有利害关系的，应当依法回避。"
            "您认为存在此种情形的，可以提出回避申请并说明理由。"
        ),
        "四、您有权对检查中发现的情况进行陈述、说明和申辩。检查人员将如实记录您的意见。",
        (
            "五、检查结束后，检查记录将交您核对，由法定代表人（负责人）或授权人签字或者盖章确认。"
            "无法取得签字或者盖章的，检查人员将注明原因，必要时邀请有关人员作为见证人。"
            "经确认或签名的检查记录可通过记录上的二维码公开核验其内容是否被改动。"
        ),
        (
            "六、检查人员对检查中知悉的商业秘密和个人信息依法予以保密。"
            "检查结果公示时，涉及国家安全、商业秘密和个人隐私的，依照有关规定执行。"
        ),
        (
            "七、检查结果将自检查完成之日起20个工作日内通过国家企业信用信息公示系统"
            "（不属于市场主体的，通过发起部门门户网站等）向社会公示。"
            "您认为公示信息不准确的，可以向实施检查的部门反映，"
            "监管部门发现公示信息不准确的将及时予以更正。"
        ),
        (
            "八、您应当配合检查，接受询问调查，如实反映情况，按要求提供相关情况和材料。"
            "不得拒绝检查人员进入被检查场所，"
            "不得拒绝提供、不如实提供或不按要求提供相关情况和材料，"
            "不得以其他方式阻挠、妨碍检查。"
        ),
        (
            "九、不予配合检查情节严重、致使检查无法正常进行的，检查人员将做好记录、留取证据，"
            "并可据此直接形成检查结果，由有关部门依法依规处理。"
        ),
        "十、检查人员将根据实际情况采取拍照、录像等方式记录现场检查情况。",
    )
)

NOTICE_EN = "\n\n".join(
    (
        "Notice of inspection",
        (
            'Under the rules of joint "double random, one public" inspections in market '
            "regulation, you are informed of the following:"
        ),
        (
            "1. This is a joint random inspection. Both the subject and the inspectors were "
            "chosen by random draw; the joint group visits once and checks, item by item, every "
            "matter of this task for every department taking part."
        ),
        (
            "2. At least two inspectors are present and have shown you their enforcement "
            "certificates. You can scan the QR code an inspector shows you with your phone to "
            "check the inspector's name, department and certificate number, and that this "
            "inspection task is real."
        ),
        (
            "3. An inspector who has an interest in your business must withdraw from the "
            "inspection. If you believe this is the case, you may ask for the inspector's "
            "withdrawal and give your reasons."
        ),
        (
            "4. You have the right to state your view of what the inspection finds, to explain it"
            " and to argue your case. The inspectors will record what you say truthfully."
        ),
        (
            "5. When the inspection ends, the inspection record is given to you to check, and "
            "your legal representative (person in charge) or an authorised person signs or seals "
            "it. If no signature or seal can be obtained, the inspectors note the reason and may "
            "invite a witness. A confirmed or signed record can be checked publicly, through the "
            "QR code on it, for any change to its content."
        ),
        (
            "6. The inspectors keep the trade secrets and personal information they learn during "
            "the inspection confidential as the law requires. When results are published, matters"
            " of national security, trade secrets and personal privacy are handled under the "
            "relevant rules."
        ),
        (
            "7. The result is published within 20 working days of the inspection's completion, "
            "through the National Enterprise Credit Information Publicity System (for a subject "
            "that is not a market entity, on the initiating department's website or similar). "
            "If you believe the published information is inaccurate, you may tell the "
            "inspecting department; published information found to be inaccurate is corrected "
            "promptly."
        ),
        (
            "8. You must cooperate with the inspection, answer questions, report the facts "
            "truthfully and provide the information and materials asked for. You may not refuse "
            "the inspectors entry to the premises, refuse to provide information or materials or "
            "provide them untruthfully or not as required, or obstruct or hinder the inspection "
            "in any other way."
        ),
        (
            "9. If serious non-cooperation prevents the inspection from going ahead, the "
            "inspectors record it and keep the evidence, may form the inspection result on that "
            "basis, and the departments concerned deal with it according to the law and "
            "regulations."
        ),
        (
            "10. The inspectors record the inspection on site by photograph, video and similar "
            "means as the circumstances require."
        ),
    )
)

NOTICE = {"zh": NOTICE_ZH, "en": NOTICE_EN}
