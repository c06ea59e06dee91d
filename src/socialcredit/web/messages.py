"""Every label of the portal, in English and Simplified Chinese: ``key: (English, 中文)``.

``{name}`` fields are filled in by ``i18n.Translator``. A test checks that every key a
template or page uses is here, with both texts and the same fields in each. The labels of
the agencies', verifiers' and office's pages are in ``messages_office``.
"""

from collections.abc import Mapping

from socialcredit.web.messages_office import AGENCY_AND_VERIFIER, OFFICE

__all__ = ["MESSAGES"]

_SITE = {
    "site.name": ("Rongcheng credit registry", "荣成市信用积分登记系统"),
    "site.footer": (
        "Social Credit Management Office. Every look at a record is logged and shown to the "
        "person; every entry can be contested.",
        "社会信用管理办公室。每一次查阅均被记录并向本人公开；每一条记录均可申诉。",
    ),
    "a11y.skip": ("Skip to the content", "跳到正文"),
    "nav.label": ("Main", "主导航"),
    "nav.home": ("Home", "首页"),
    "nav.catalogue": ("Catalogue", "积分目录"),
    "nav.check": ("Check a statement", "核验明细"),
    "nav.search": ("Find a person", "查找人员"),
    "nav.review": ("Review queue", "复核队列"),
    "nav.me": ("My record", "我的记录"),
    "nav.access_log": ("Who checked me", "谁查过我"),
    "nav.notices": ("My notices", "我的通知"),
    "nav.consents": ("My consents", "我的授权"),
    "nav.agency_queue": ("Contest queue", "申诉待办"),
    "nav.upload": ("Upload events", "上传事件"),
    "nav.verifier": ("Ask a question", "资格查询"),
    "nav.dashboard": ("Dashboard", "统计概览"),
    "nav.audit": ("Access log", "查阅日志"),
    "account.login": ("Log in", "登录"),
    "account.logout": ("Log out", "退出"),
    "account.signed_in_as": ("Logged in as {name} ({role})", "已登录：{name}（{role}）"),
    "role.agency": ("reporting agency", "报送单位"),
    "role.clerk": ("clerk", "办事员"),
    "role.resident": ("resident", "居民"),
    "role.verifier": ("verifier", "核查方"),
    "role.admin": ("administrator", "管理员"),
    "role.auditor": ("auditor", "审计员"),
    "common.yes": ("yes", "是"),
    "common.no": ("no", "否"),
    "common.older": ("Older entries", "更早的记录"),
    "duration.years": ("{n} y", "{n}年"),
    "duration.months": ("{n} mo", "{n}个月"),
    "duration.days": ("{n} d", "{n}天"),
    "duration.join": (", ", "，"),
}

_ERRORS = {
    "error.code": ("Error", "错误"),
    "error.back": ("Back to the start", "返回首页"),
    "error.400": ("The request could not be used", "请求无法处理"),
    "error.403": ("Not allowed", "无权访问"),
    "error.404": ("Not found", "未找到"),
    "error.405": ("Not possible this way", "不支持此操作方式"),
    "error.409": ("In conflict with what is recorded", "与已有记录冲突"),
    "error.413": ("Too large", "内容过大"),
    "error.415": ("Not a file type this page takes", "不支持的文件类型"),
    "error.422": ("The request could not be answered", "请求无法答复"),
    "error.429": ("Too many requests: wait a minute", "请求过多，请稍候"),
    "error.500": ("Something went wrong on our side", "系统内部错误"),
    "error.503": ("The registry is busy: try again shortly", "系统繁忙，请稍后再试"),
    "error.other": ("The request failed", "请求失败"),
}

_HOME_AND_LOGIN = {
    "home.title": ("The Rongcheng credit registry", "荣成市信用积分登记系统"),
    "home.intro": (
        "Every resident holds a points account that starts at 1000. Agencies report events; a "
        "published catalogue turns each into points; the balance gives a grade.",
        "每位居民的积分账户以1000分起始。各报送单位报送事件，公开的积分目录将其折算为分值，余额决"
        "定信用等级。",
    ),
    "home.rights": (
        "You may see your whole record and everyone who looked at it, and contest any entry. "
        "Entries expire. Organisations get an answer to one question, not your record.",
        "您可以查看自己的全部记录以及所有查阅过的人，并可对任何记录提出申诉。记录到期失效。机构只"
        "能得到一个问题的答案，而不是您的档案。",
    ),
    "home.continue": ("Continue to your pages", "进入我的页面"),
    "home.catalogue.title": ("The published catalogue", "公开的积分目录"),
    "home.catalogue.text": (
        "Every rule, its points, how long it counts and its legal basis.",
        "每条规则的分值、计分期限及法律依据。",
    ),
    "home.check.title": ("Were you handed a statement?", "收到了信用积分明细？"),
    "home.check.text": (
        "Check that it was issued by the office and not altered.",
        "核验明细是否由办公室出具且未被篡改。",
    ),
    "home.login.title": (
        "Residents, clerks, agencies and verifiers",
        "居民、办事员、报送单位和核查方",
    ),
    "home.login.text": (
        "Log in with your account name and the token the office gave you.",
        "请使用账户名和办公室发放的令牌登录。",
    ),
    "login.title": ("Log in", "登录"),
    "login.intro": (
        "Use the account name and the token the office gave you. The token is secret: never send "
        "it by e-mail.",
        "请输入办公室发放的账户名和令牌。令牌须保密，切勿通过电子邮件发送。",
    ),
    "login.name": ("Account name", "账户名"),
    "login.token": ("Token", "令牌"),
    "login.token.hint": ("(starts with sc_)", "（以 sc_ 开头）"),
    "login.failed": (
        "The account name and token do not match an active account.",
        "账户名与令牌不匹配，或账户已停用。",
    ),
}

_PERSON_AND_STATEMENT = {
    "person.name": ("Name", "姓名"),
    "person.id": ("Resident ID", "身份证号"),
    "person.id.hint": ("(18 characters)", "（18位）"),
    "person.district": ("District", "街道/镇"),
    "statement.standing": ("Standing", "信用状况"),
    "statement.as_of": ("As of", "截至"),
    "statement.score": ("Score", "积分"),
    "statement.grade": ("Grade", "等级"),
    "statement.blacklisted": ("On the blacklist", "列入失信名单"),
    "statement.catalogue": ("Catalogue version", "目录版本"),
    "statement.arithmetic": (
        "Score = base {base} + counted entries {counted} = {score}.",
        "积分 = 基础分 {base} + 计分记录 {counted} = {score}。",
    ),
    "statement.entries": ("Entries", "记录明细"),
    "statement.entries.caption": (
        "Every entry, whether it counts and why ({n})",
        "全部记录、是否计分及原因（{n}条）",
    ),
    "statement.no_entries": (
        "No entries: the score is the base score.",
        "暂无记录：积分即基础分。",
    ),
    "statement.dates_note": (
        "An entry counts from the day it occurred until the day before its end date.",
        "记录自发生之日起计分，至截止日期前一天为止。",
    ),
    "statement.pdf": ("Download the signed PDF statement", "下载已签名的PDF明细"),
    "entry.occurred_on": ("Occurred on", "发生日期"),
    "entry.rule": ("Rule", "规则"),
    "entry.agency": ("Agency", "报送单位"),
    "entry.points": ("Points", "分值"),
    "entry.window": ("Counting window", "计分期限"),
    "entry.status": ("Status", "状态"),
    "entry.counts": ("Counts?", "是否计分"),
    "entry.evidence": ("Evidence", "证据"),
    "entry.event_id": ("Event", "事件编号"),
    "entry.corrects": ("corrects event {event}", "更正事件 {event}"),
    "entry.repairs": ("repairs event {event}", "修复事件 {event}"),
    "entry.points_cut": ("{n} cut by the yearly cap", "因年度上限扣减{n}分"),
    "entry.counts_until": ("until {day}", "至 {day}"),
    "entry.ends_on": ("ended on {day}", "于 {day} 终止"),
    "entry.blacklist_until": ("blacklisted until {day}", "列入名单至 {day}"),
    "entry.grade_cap": ("grade no better than {grade}", "等级不高于 {grade}"),
    "entry.reason": ("Reason", "原因"),
    "status.active": ("active", "有效"),
    "status.contested": ("contested", "申诉中"),
    "status.overturned": ("overturned", "已撤销"),
    "status.withdrawn": ("withdrawn", "已撤回"),
    "why.counts": ("counts", "计分"),
    "why.expired": ("expired: no longer counts", "已过期，不再计分"),
    "why.ended": ("ended early: no longer counts", "已提前终止，不再计分"),
    "why.overturned": ("overturned: does not count", "已撤销，不计分"),
    "why.withdrawn": ("withdrawn: does not count", "已撤回，不计分"),
}

_CONTESTS = {
    "contest.open.title": ("Contest an entry", "对记录提出申诉"),
    "contest.open.intro": (
        "Say what is wrong. The entry keeps counting, flagged as contested, until the reporting "
        "agency answers (within {days} days, or it stops counting) and, if the agency stands by "
        "it, a review officer decides with written reasons.",
        "请说明记录有何错误。在报送单位答复之前（须在{days}天内答复，否则该记录不再计分），记录仍"
        "计分并标注为申诉中；如报送单位坚持，由复核人员书面说明理由作出决定。",
    ),
    "contest.entry": ("Entry", "记录"),
    "contest.grounds": ("Grounds", "申诉理由"),
    "contest.grounds.hint": (
        "(what is wrong, up to 4000 characters)",
        "（有何错误，不超过4000字）",
    ),
    "contest.attachment": ("Attachments (optional)", "附件（可选）"),
    "contest.attachment.hint": (
        "(up to {count} files of {size} each)",
        "（最多{count}个文件，每个不超过{size}）",
    ),
    "contest.submit": ("Open the contest", "提交申诉"),
    "contest.none_contestable": (
        "No entry can be contested now: only active entries can.",
        "目前没有可申诉的记录：只有有效记录可以申诉。",
    ),
    "contest.choose_entry": ("Choose the entry to contest.", "请选择要申诉的记录。"),
    "contest.opened": ("Opened", "提出时间"),
    "contest.answer_due": ("agency to answer by {day}", "报送单位须于 {day} 前答复"),
    "contest.answer_due_label": ("Agency to answer by", "报送单位答复期限"),
    "contest.overdue": ("overdue", "已逾期"),
    "contest.state.awaiting-agency": ("contest awaiting the agency", "申诉待报送单位答复"),
    "contest.state.awaiting-decision": ("contest awaiting review", "申诉待复核"),
    "contest.state.closed": ("contest closed", "申诉已结束"),
    "contest.step.answered": ("Agency's answer", "报送单位答复"),
    "contest.step.decided": ("Decision", "复核决定"),
    "contest.step.expired": ("Deadline passed", "逾期"),
    "outcome.verified": ("verified", "核实无误"),
    "outcome.corrected": ("corrected", "已更正"),
    "outcome.withdrawn": ("withdrawn", "已撤回"),
    "outcome.upheld": ("upheld", "维持"),
    "outcome.overturned": ("overturned", "撤销"),
    "done.contest-opened": (
        "The contest is open. The agency has been asked to answer.",
        "申诉已受理，已通知报送单位答复。",
    ),
    "done.decided": (
        "The decision is recorded and the person notified.",
        "决定已记录并已通知本人。",
    ),
    "done.swept": (
        "Deadlines applied: unanswered contests past their deadline are overturned.",
        "已执行期限：逾期未答复的申诉已撤销相关记录。",
    ),
    "done.answered": (
        "Your answer is recorded and the person notified.",
        "答复已记录并已通知本人。",
    ),
    "review.title": ("Review queue", "复核队列"),
    "review.intro": (
        "Contests the agency verified wait for your decision. A decision needs written reasons; "
        "the person sees them.",
        "报送单位核实的申诉等待您的决定。决定须附书面理由，本人可以看到。",
    ),
    "review.awaiting_decision": ("Awaiting your decision", "待您决定"),
    "review.overdue": ("Past the agency's deadline", "报送单位已逾期"),
    "review.overdue.intro": (
        "Unverifiable information stops counting: applying the deadline overturns these.",
        "无法核实的信息不再计分：执行期限后，这些记录将被撤销。",
    ),
    "review.sweep": ("Apply the deadline now", "立即执行期限"),
    "review.waiting": ("Waiting for the agency", "等待报送单位答复"),
    "review.empty": ("None.", "无。"),
    "review.decision": ("Decision", "决定"),
    "review.reason": ("Reasons", "理由"),
    "review.reason.hint": ("(shown to the person)", "（将向本人公开）"),
    "review.submit": ("Record the decision", "记录决定"),
}

_PAGES = {
    "clerk.search.title": ("Find a person", "查找人员"),
    "clerk.search.submit": ("Open the record", "查看记录"),
    "clerk.purpose": ("Purpose of this look", "查阅目的"),
    "clerk.purpose.hint": (
        "(the person sees it; default: office enquiry)",
        "（本人可见；默认为“办公室查询”）",
    ),
    "clerk.person.title": ("Record", "信用记录"),
    "clerk.person.purpose": ("Logged as: {purpose}", "已记录查阅目的：{purpose}"),
    "me.title": ("My record", "我的信用记录"),
    "access.title": ("Who checked me", "谁查过我"),
    "access.intro": (
        "Everyone who read your record, when, in which role and organisation, and why. Your own "
        "looks are listed too.",
        "所有查阅过您记录的人、时间、身份、所属机构及目的。您本人的查阅也会列出。",
    ),
    "access.caption": (
        "Reads of your record, newest first ({n})",
        "记录查阅情况，最新在前（{n}条）",
    ),
    "access.none": ("Nobody has read your record.", "尚无人查阅您的记录。"),
    "access.when": ("When", "时间"),
    "access.who": ("Who", "查阅人"),
    "access.organisation": ("Organisation", "机构"),
    "access.action": ("What", "内容"),
    "access.purpose": ("Purpose", "目的"),
    "access.detail": ("Question and answer", "问题与答复"),
    "access.detail.policy": ("asked: {policy}", "查询：{policy}"),
    "access.detail.refused": ("refused: {code}", "被拒绝：{code}"),
    "access.detail.as_of": ("as of {day}", "截至 {day}"),
    "access.detail.known_at": ("as known at {moment}", "按 {moment} 时的记录"),
    "action.score": ("score", "积分"),
    "action.statement": ("statement", "明细"),
    "action.check": ("eligibility check", "资格查询"),
    "action.check-refused": ("check refused", "查询被拒"),
    "action.access-log": ("access log", "查阅日志"),
    "action.consents": ("consents", "授权"),
    "action.notices": ("notices", "通知"),
    "action.contest": ("contest", "申诉"),
    "action.contests": ("contests", "申诉列表"),
    "action.export": ("scores export", "积分导出"),
    "notices.title": ("My notices", "我的通知"),
    "notices.intro": (
        "What was recorded about you, who was told you are not eligible, and your contests.",
        "关于您的新记录、不符合条件的查询结果以及您的申诉进展。",
    ),
    "notices.none": ("No notices.", "暂无通知。"),
    "notices.deliveries": ("Sent", "发送情况"),
    "notice.kind.entry": ("new entry", "新记录"),
    "notice.kind.adverse-action": ("not eligible", "不符合条件"),
    "notice.kind.contest": ("contest", "申诉"),
    "consents.title": ("My consents", "我的授权"),
    "consents.intro": (
        "An organisation may check you only for a purpose you consented to, unless the law makes "
        "the check mandatory. You may revoke a consent at any time.",
        "除法定必须的查询外，机构只能在您授权的目的范围内查询您。您可以随时撤回授权。",
    ),
    "consents.current": ("Consents", "授权情况"),
    "consents.caption": ("Organisations and purposes ({n})", "机构与目的（{n}项）"),
    "consents.none": ("You have not given any consent.", "您尚未作出任何授权。"),
    "consents.organisation": ("Organisation", "机构"),
    "consents.organisation.hint": ("(its exact name)", "（准确名称）"),
    "consents.purpose": ("Purpose", "目的"),
    "consents.purpose.hint": ("(as the organisation states it)", "（按机构所述）"),
    "consents.state": ("State", "状态"),
    "consents.since": ("Since", "起始时间"),
    "consents.change": ("Change", "变更"),
    "consents.granted": ("granted", "已授权"),
    "consents.revoked": ("revoked", "已撤回"),
    "consents.revoke": ("Revoke", "撤回"),
    "consents.grant_again": ("Grant again", "重新授权"),
    "consents.grant.title": ("Give consent", "作出授权"),
    "consents.grant": ("Give consent", "授权"),
    "done.consent-granted": ("Consent recorded.", "授权已记录。"),
    "done.consent-revoked": ("Consent revoked.", "授权已撤回。"),
    "done.consent-unchanged": ("Nothing changed: it was already so.", "无变化：原本即是如此。"),
}

MESSAGES: Mapping[str, tuple[str, str]] = {
    **_SITE,
    **_ERRORS,
    **_HOME_AND_LOGIN,
    **_PERSON_AND_STATEMENT,
    **_CONTESTS,
    **_PAGES,
    **AGENCY_AND_VERIFIER,
    **OFFICE,
}
