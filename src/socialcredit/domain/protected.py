"""The protected-grounds refusal: no rule may score people for who they are or what they believe.

DESIGN.md section 2, principle 6: conduct only, own conduct only. A catalogue rule is refused
when its category, title (either language), description or legal basis uses a term from the
vocabulary below. The vocabulary is published in ``docs/catalogue.md`` (a test keeps the two
equal). It guards against mistakes and states a policy; it is not a proof: a determined author
can word around any list, which is why every rule is also published with its legal basis and
every entry can be contested.

English terms are regular expressions matched on NFKC-normalised, case-folded text with
collapsed whitespace (and again with ``-`` and ``_`` read as spaces, for category codes);
Chinese terms are plain substrings of the text with its spaces removed.
"""

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["GROUNDS", "Ground", "protected_ground_matches"]


@dataclass(frozen=True, slots=True)
class Ground:
    """One protected ground with its vocabulary."""

    code: str
    label: str
    english: tuple[str, ...]
    chinese: tuple[str, ...]


GROUNDS: tuple[Ground, ...] = (
    Ground(
        "ethnic-origin",
        "ethnic origin",
        (
            r"\bethnic",
            r"\bracial",
            r"\bracis[mt]",
            r"\b(of|by|on) race\b",
            r"\bminority nationalit",
            r"\buy[g]?hur",
            r"\buighur",
            r"\btibetans?\b",
        ),
        # Named minorities too: 维吾尔族 or 藏族 does not contain 民族.
        ("民族", "种族", "维吾尔", "藏族", "回族", "哈萨克族"),
    ),
    Ground(
        "religion-or-belief",
        "religion or belief",
        (
            r"\brelig",
            r"\bworship",
            r"\bchurch",
            r"\bmosque",
            r"\btemples?\b",
            r"\bmonaster",
            r"\bpray(er|ers|ing)?\b",
            r"\bcults?\b",
            r"\bfalun",
            r"\bsuperstiti",
            r"\bspiritual",
            r"\bbeliefs?\b",
            r"(?<!good )(?<!bad )\bfaith\b",
            r"\bbible",
            r"\bqur.?an|\bkoran",
            r"\bbuddhis",
            r"\btaois",
            r"\bchristian",
            r"\bmuslim",
            r"\bislam",
            r"\bcatholic",
            r"\bprotestant",
            r"\bincense",
            r"\bclergy",
            r"\bmissionar",
            # Dress and observance rules are belief rules in disguise.
            r"\bramadan",
            r"\bhalal",
            r"\bhijab",
            r"\bburq",
            r"\bheadscar",
            r"\bveil(s|ed)?\b",
            r"\bbeards?\b",
        ),
        (
            "宗教",
            "信仰",
            "信教",
            "教会",
            "寺庙",
            "清真",
            "礼拜",
            "邪教",
            "法轮",
            "迷信",
            "烧香",
            "烧纸",
            "传教",
            "斋月",
            "封斋",
            "面纱",
            "罩袍",
            "胡须",
            "大胡子",
        ),
    ),
    Ground(
        "political-opinion",
        "political opinion",
        (
            r"\bpolitical (opinion|view|belief|stance|position|speech|activit|expression)",
            r"\bdissent",
            r"\bdissident",
            r"\bsubversi",
            r"\bcounter-?revolution",
            r"\banti-?(party|government)\b",
            r"\bcritical of (the )?(government|party|state|leader)",
            r"\bstate'?s reputation",
            r"\breputation of the (state|party|government)",
        ),
        (
            "政治观点",
            "政治立场",
            "政治态度",
            "反党",
            "颠覆",
            "异见",
            "政见",
            "妄议",
            "国家形象",
            "国家声誉",
        ),
    ),
    Ground(
        "petitioning-or-speech",
        "petitioning or speech",
        (
            r"\bpetition",
            r"\bletters and visits",
            r"\babnormal (visit|petition)",
            r"\b(to|in) beijing\b",
            r"\bgrievance",
            r"\bhigher[- ]level authorit",
            r"\bhigher authorit",
            r"\bskip(ping)?[- ]levels?\b",
            r"\boutside (the )?(normal|proper|regular) channels",
            r"\bspeech",
            r"\b(express(ing|ed)?|voic(e|ed|ing)|holding|political)"
            r" (an |his |her |their )?opinions?\b",
            r"\bonline (post|comment|remark|speech|content|article)",
            r"\bposting\b",
            r"\bcomments?\b",
            r"\bharmful information",
            r"\brumou?rs?\b",
            r"\bbanners?\b",
            r"\bslogans?\b",
            r"\bwechat",
            r"\bweibo",
            r"\bmicro-?blog",
            r"\bblog",
            r"\bforums?\b",
            r"\bsocial media",
            r"\bforeign media",
            r"\bjournalist",
            r"\binterviews? (with|by|to) (the )?(media|press|journalist|reporter)",
            r"\bsensitive (area|date|period|place|location|site)",
            r"\bwreaths?\b",
            r"\bcoffins?\b",
        ),
        (
            "信访",
            "上访",
            "访民",
            "越级",
            "进京",
            "赴京",
            "集访",
            "缠访",
            "闹访",
            "非访",
            "言论",
            "发帖",
            "网帖",
            "转发",
            "有害信息",
            "谣言",
            "横幅",
            "标语",
            "条幅",
            "微信",
            "微博",
            "论坛",
            "境外媒体",
            "外媒",
            "采访",
            # Not bare 敏感: "leaking sensitive data" (泄露敏感数据) is conduct.
            "敏感地区",
            "敏感区域",
            "敏感地点",
            "敏感场所",
            "敏感部位",
            "敏感时期",
            "敏感时段",
            "敏感节点",
            "敏感日",
            "花圈",
            "棺材",
            "维权",
        ),
    ),
    Ground(
        "assembly",
        "assembly",
        (
            r"\bassembl(y|ies)\b",
            r"\bdemonstrat(ion|ions|or|ors|ing)\b",
            r"\bprotest",
            r"\brall(y|ies)\b",
            r"\bsit-?ins?\b",
            r"(?<!evidence )(?<!information )\bgathering",
            r"\bmass incidents?\b",
        ),
        ("集会", "游行", "示威", "静坐", "聚集", "请愿", "群体性事件"),
    ),
    Ground(
        "trade-union-membership",
        "trade-union membership",
        (
            r"\btrade[- ]?unions?",
            r"\blabou?r unions?",
            r"\bunion (member|activit|organi[sz])",
            r"\bunioni[sz]",
            r"\bcollective bargaining",
            r"\b(go|goes|going|went) on strike",
            r"\bstrik(e|es|ing) (workers|action)",
        ),
        ("工会", "罢工"),
    ),
    Ground(
        "health",
        "health",
        (
            r"\billness",
            r"\bdiseases?\b",
            r"\bsick",
            r"\bhiv\b",
            r"\baids\b",
            r"\bhepatitis",
            r"\bmental(ly)? (ill|disorder|health|condition)",
            r"\bpsychiatr",
            r"\bdisab(led|ilit)",
            r"\bpregnan",
            r"\bmedical (condition|record|history|diagnos)",
            r"\bdiagnos",
            r"\baddict",
            r"\bdrug (rehabilitation|treatment|user)",
            r"\bvaccin",
            r"\bhealth (status|condition)",
        ),
        (
            "疾病",
            "患病",
            "病史",
            "艾滋",
            "乙肝",
            "精神病",
            "精神障碍",
            "残疾",
            "怀孕",
            "孕妇",
            "戒毒",
            "疫苗",
            "健康状况",
            "体检",
        ),
    ),
    Ground(
        "sex-life-or-orientation",
        "sex life or orientation (including reproduction and family planning)",
        (
            r"\bsexual",
            r"\bsex life",
            r"\bgay\b",
            r"\blesbian",
            r"\bhomosexual",
            r"\bbisexual",
            r"\btransgender",
            r"\blgbt",
            r"\bcohabit",
            r"\badulter",
            r"\bextra-?marital",
            r"\bprostitut",
            r"\bfamily planning",
            r"\bbirth (quota|control|permit|planning)",
            r"\bone[- ]child",
            r"\bsocial maintenance fee",
            r"\bout-of-plan",
            r"\bcontracept",
            r"\babortion",
            r"\bsterili[sz]",
            r"\bchildbirth",
            r"\bhaving (a |more )?(child|children|babies|baby)",
        ),
        (
            "性取向",
            "同性",
            "性生活",
            "性行为",
            "通奸",
            "婚外",
            "同居",
            "卖淫",
            "嫖娼",
            "计划生育",
            "超生",
            "社会抚养费",
            # Not bare 生育: maternity-insurance fraud (生育保险欺诈) is conduct.
            "违法生育",
            "政策外生育",
            "计划外生育",
            "非婚生育",
            "未婚生育",
            "未婚先孕",
            "生育指标",
            "生育证",
            "准生证",
            "二胎",
            "三胎",
            "二孩",
            "三孩",
            "避孕",
            "堕胎",
            "结扎",
        ),
    ),
    Ground(
        "someone-else",
        "someone other than the person who acted (points land only on the actor)",
        (
            r"\b(parents?|child|children|sons?|daughters?|spouses?|husbands?|wives|wife|fathers?"
            r"|mothers?|relatives?|siblings?|brothers?|sisters?|kin|family members?"
            r"|household members?|famil(y|ies)|households?)"
            r" of\b",
            r"'s (parents?|child|children|sons?|daughters?|spouse|husband|wife|relatives?"
            r"|family)\b",
            r"^(a |an |the |one's |his |her |their )?(child|children|son|daughter|spouse|husband"
            r"|wife|parents?|father|mother|relatives?|family members?|siblings?|brother|sister)\b",
            r"\bcredited to\b",
            r"\bon behalf of\b",
            r"\bguilt by association",
            r"\bwhose (parent|child|spouse|relative|son|daughter|father|mother|husband|wife)",
        ),
        (
            "家属",
            "亲属",
            "亲友",
            "株连",
            "其子女",
            "的子女",
            "其父母",
            "的父母",
            "其配偶",
            "的配偶",
            "子女参",
            "子女入伍",
            "子女的",
            "其家人",
            "的家人",
        ),
    ),
)

_COMPILED: tuple[tuple[Ground, tuple[re.Pattern[str], ...]], ...] = tuple(
    (ground, tuple(re.compile(term) for term in ground.english)) for ground in GROUNDS
)


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", folded).strip()


def protected_ground_matches(text: str) -> list[tuple[Ground, str]]:
    """Every (ground, matched text) found in ``text``; empty when none is."""
    normal = _normalise(text)
    # Category codes are written family-planning or health_status: look at them spaced out too.
    spaced = re.sub(r"[-_]+", " ", normal)
    compact = normal.replace(" ", "")
    found: list[tuple[Ground, str]] = []
    for ground, patterns in _COMPILED:
        for pattern in patterns:
            match = pattern.search(normal) or pattern.search(spaced)
            if match:
                found.append((ground, match.group(0)))
                break
        else:
            for term in ground.chinese:
                if term in compact:
                    found.append((ground, term))
                    break
    return found
