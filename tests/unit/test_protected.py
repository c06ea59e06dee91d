"""The protected-grounds refusal (``domain.protected``), as ``parse_catalogue`` applies it.

How: for every protected ground, several disguised wordings in English and in Chinese are put into
a rule of an otherwise valid catalogue (title, title_zh, category, description, legal basis) and
must be refused with a problem naming the rule, the field and the ground's label. A false-positive
guard loads a catalogue full of legitimate conduct rules and expects no refusal. Hypothesis checks
that every Chinese term and a sample of English wordings are still found inside arbitrary
surrounding text, and the vocabulary itself is checked for terms that could never match.
"""

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.catalogue import parse_catalogue
from socialcredit.domain.errors import CatalogueInvalidError
from socialcredit.domain.protected import GROUNDS, protected_ground_matches

ETHNIC = "ethnic origin"
RELIGION = "religion or belief"
POLITICAL = "political opinion"
PETITION = "petitioning or speech"
ASSEMBLY = "assembly"
UNION = "trade-union membership"
HEALTH = "health"
SEX = "sex life or orientation"
OTHER = "someone other than the person who acted"


def _document(**rule_fields: Any) -> dict[str, Any]:
    rule = {
        "code": "R-1",
        "title": "Running a red light",
        "category": "traffic",
        "points": -5,
        "counts_for": "P1Y",
        "reporters": ["traffic-police"],
        "legal_basis": "Road Traffic Safety Law, art. 38 and 90",
    }
    rule.update(rule_fields)
    return {
        "version": "2026.1",
        "effective_from": "2026-01-01",
        "base_score": 1000,
        "grades": [{"grade": "A", "min": 960}, {"grade": "B", "min": 850}, {"grade": "D"}],
        "agencies": [{"code": "traffic-police", "name": "Traffic Police"}],
        "rules": [rule],
    }


def _refusal(field: str, text: str) -> list[str]:
    with pytest.raises(CatalogueInvalidError) as caught:
        parse_catalogue(_document(**{field: text}))
    return caught.value.problems


def _assert_refused(field: str, text: str, label: str) -> None:
    problems = _refusal(field, text)
    wanted = f"rules[0] (R-1): {field}: refers to a protected ground ({label}"
    assert any(line.startswith(wanted) for line in problems), problems
    assert all("own conduct" in line for line in problems if "protected ground" in line)


# --- disguised wordings, English --------------------------------------------------------------

ENGLISH = [
    (ETHNIC, "Residents of Uyghur ethnicity travelling abroad"),
    (ETHNIC, "Members of minority nationalities failing to register"),
    (ETHNIC, "Racial profile flagged by police"),
    (ETHNIC, "Tibetan residents leaving the county"),
    (RELIGION, "Practising Falun Gong"),
    (RELIGION, "Attending an unregistered church"),
    (RELIGION, "Organising prayer meetings at home"),
    (RELIGION, "Participating in cult activities"),
    (RELIGION, "Distributing Bibles"),
    (RELIGION, "Wearing a veil or growing an abnormal beard"),
    (RELIGION, "Selling feudal superstition goods"),
    (POLITICAL, "Expressing dissent against the leadership"),
    (POLITICAL, "Anti-party remarks"),
    (POLITICAL, "Holding political views contrary to the line"),
    (POLITICAL, "Conduct damaging the reputation of the state"),
    (PETITION, "Visiting higher-level authorities to present grievances outside normal channels"),
    (PETITION, "Petitioning directly in Beijing"),
    (PETITION, "Going to Beijing to lodge complaints"),
    (PETITION, "Skipping levels to lodge complaints"),
    (PETITION, "Posting critical comments online"),
    (PETITION, "Spreading rumours on Weibo"),
    (PETITION, "Giving interviews to foreign media"),
    (PETITION, "Placing wreaths or coffins in public places"),
    (PETITION, "Displaying banners in a public square"),
    (PETITION, "Speech damaging to the state's reputation"),
    (PETITION, "Staying in a sensitive area during major meetings"),
    (ASSEMBLY, "Unauthorised gathering"),
    (ASSEMBLY, "Unapproved assembly or demonstration (participant)"),
    (ASSEMBLY, "Joining a protest"),
    (ASSEMBLY, "Sit-in at government offices"),
    (ASSEMBLY, "Taking part in a rally"),
    (ASSEMBLY, "Taking part in a mass incident"),
    (UNION, "Organising an independent trade union"),
    (UNION, "Going on strike"),
    (UNION, "Labour union activity"),
    (UNION, "Collective bargaining demands"),
    (HEALTH, "HIV status"),
    (HEALTH, "Carrying hepatitis B"),
    (HEALTH, "Mental illness not reported"),
    (HEALTH, "Sick leave exceeding 30 days"),
    (HEALTH, "Refusing vaccination"),
    (HEALTH, "Pregnant employees absent from work"),
    (HEALTH, "Drug addiction"),
    (SEX, "Violating family planning policy"),
    (SEX, "Having a child outside the birth quota"),
    (SEX, "Unpaid social maintenance fee"),
    (SEX, "Cohabiting without marriage"),
    (SEX, "Homosexual conduct"),
    (SEX, "Adultery"),
    (OTHER, "Child enlists in the army"),
    (OTHER, "Parents of a dishonest debtor"),
    (OTHER, "Spouse of a person on the blacklist"),
    (OTHER, "Organ donation (credited to parents or spouse)"),
    (OTHER, "Relatives of a court defaulter"),
    (OTHER, "A soldier's parents receive a bonus"),
    (OTHER, "Family of a dishonest debtor"),
]

CHINESE = [
    (ETHNIC, "少数民族人员外出未报备"),
    (ETHNIC, "维吾尔族人员出境"),
    (ETHNIC, "藏族人员赴外地"),
    (RELIGION, "参加邪教活动"),
    (RELIGION, "私设聚会点传教"),
    (RELIGION, "非法宗教活动"),
    (RELIGION, "到寺庙烧香"),
    (RELIGION, "家庭教会聚会"),
    (RELIGION, "蒙面罩袍"),
    (POLITICAL, "妄议中央"),
    (POLITICAL, "损害国家形象"),
    (POLITICAL, "持不同政见"),
    (PETITION, "越级上访"),
    (PETITION, "越级反映问题"),
    (PETITION, "进京非访"),
    (PETITION, "在微信群转发有害信息"),
    (PETITION, "网上发布不当言论"),
    (PETITION, "拉横幅"),
    (PETITION, "接受境外媒体采访"),
    (PETITION, "敏感时期滞留北京"),
    (ASSEMBLY, "非法集会"),
    (ASSEMBLY, "参加游行示威"),
    (ASSEMBLY, "在政府门前静坐"),
    (ASSEMBLY, "参与群体性事件"),
    (UNION, "组织工会"),
    (UNION, "参与罢工"),
    (HEALTH, "艾滋病病毒携带者"),
    (HEALTH, "乙肝携带者"),
    (HEALTH, "精神病人肇事"),
    (HEALTH, "拒绝接种疫苗"),
    (HEALTH, "体检不合格"),
    (SEX, "超生"),
    (SEX, "违反计划生育政策"),
    (SEX, "未婚同居"),
    (SEX, "婚外情"),
    (SEX, "未缴纳社会抚养费"),
    (SEX, "政策外生育二孩"),
    (OTHER, "军人家属"),
    (OTHER, "失信被执行人的子女"),
    (OTHER, "子女入伍"),
    (OTHER, "株连"),
]


@pytest.mark.parametrize(("label", "text"), ENGLISH)
def test_english_disguised_wording_in_title_refused(label: str, text: str) -> None:
    _assert_refused("title", text, label)


@pytest.mark.parametrize(("label", "text"), CHINESE)
def test_chinese_disguised_wording_in_title_zh_refused(label: str, text: str) -> None:
    _assert_refused("title_zh", text, label)


@pytest.mark.parametrize(("label", "text"), CHINESE[::3])
def test_chinese_wording_in_the_english_title_field_refused(label: str, text: str) -> None:
    _assert_refused("title", text, label)


@pytest.mark.parametrize(("label", "text"), ENGLISH[::4])
def test_disguised_wording_in_description_refused(label: str, text: str) -> None:
    _assert_refused("description", text, label)


@pytest.mark.parametrize(
    ("label", "category"),
    [
        (RELIGION, "religion"),
        (RELIGION, "religious-affairs"),
        (ETHNIC, "ethnic-affairs"),
        (PETITION, "petitioning"),
        (PETITION, "信访"),
        (HEALTH, "health-status"),
        (SEX, "family planning"),
        (SEX, "family-planning"),
        (SEX, "sex_life"),
        (POLITICAL, "political-opinion"),
        (HEALTH, "mental-health"),
        (SEX, "计划生育"),
        (ASSEMBLY, "assembly"),
        (UNION, "trade-union"),
    ],
)
def test_protected_category_refused(label: str, category: str) -> None:
    _assert_refused("category", category, label)


@pytest.mark.parametrize(
    ("label", "basis"),
    [
        (PETITION, "Regulations on Letters and Visits, art. 18"),
        (PETITION, "信访条例第十八条"),
        (SEX, "Population and Family Planning Law, art. 41"),
        (RELIGION, "Regulations on Religious Affairs, art. 36"),
        (ASSEMBLY, "Law on Assemblies, Processions and Demonstrations, art. 29"),
        (OTHER, "Measures on joint punishment of relatives of dishonest debtors"),
    ],
)
def test_protected_legal_basis_refused(label: str, basis: str) -> None:
    _assert_refused("legal_basis", basis, label)


def test_protected_chinese_legal_basis_refused() -> None:
    _assert_refused("legal_basis_zh", "中华人民共和国人口与计划生育法第四十一条", SEX)


def test_every_ground_has_a_wording_in_each_language_here() -> None:
    # Guards the lists above: no ground is left without a disguised example in either language.
    labels = {ground.label.split(" (")[0] for ground in GROUNDS}
    assert labels == {label for label, _ in ENGLISH}
    assert labels == {label for label, _ in CHINESE}


def test_one_text_touching_two_grounds_names_both() -> None:
    problems = _refusal("title", "Family members of Falun Gong practitioners")
    assert any(f"({RELIGION})" in line for line in problems), problems
    assert any(f"({OTHER}" in line for line in problems), problems


def test_refusal_quotes_the_matched_term() -> None:
    problems = _refusal("title_zh", "参与越级上访活动")
    assert any("'越级'" in line or "'上访'" in line for line in problems), problems


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ＨＩＶ status", "health"),  # full-width letters (NFKC)
        ("PRACTISING FALUN GONG", "religion-or-belief"),
        ("Falun\n   Gong practice", "religion-or-belief"),
        ("A soldier’s parents receive a bonus", "someone-else"),  # curly apostrophe
        ("越 级 上 访", "petitioning-or-speech"),  # spaces between characters
        ("越级\n上访", "petitioning-or-speech"),
        ("Ｕｎａｕｔｈｏｒｉｓｅｄ gathering", "assembly"),
    ],
)
def test_matching_survives_case_width_and_spacing(text: str, code: str) -> None:
    assert code in {ground.code for ground, _ in protected_ground_matches(text)}


# --- false-positive guard ---------------------------------------------------------------------

LEGITIMATE = [
    "Running a red light",
    "Drunk driving",
    "Tax evasion",
    "Fighting in a public place",
    "Maltreating family members or failing to support elderly parents",
    "Unpaid blood donation",
    "Bone-marrow donation",
    "Volunteer service 100 hours",
    "Acting in good faith",
    "Collecting evidence",
    "Evidence gathering obstructed",
    "Circulated criticism of a public servant",
    "Street race",
    "Failing to sort waste",
    "Social guarantee breach (joint liability)",
    "Refusing to testify",
    "Cheating in exams",
    "Academic or professional-title fraud",
    "Noise from firecrackers, renovation, square dancing or loud speakers",
    "Lavish weddings or funerals",
    "Illegal street vending, bad parking, graffiti or dog violations",
    "Malicious wage arrears, or evading support obligations",
    "Evading military service",
    "Returning lost money",
    "Helping police catch a suspect in a major case",
    "Helping a family in hardship",
    "Written self-criticism ordered",
    "Annual performance rated excellent",
    "Leaking state secrets",
    "Taking bribes",
    "Social-insurance arrears",
    "False complaints through the government hotline",
    "Fare evasion",
    "Violent obstruction of officials",
    "Forging official documents or seals",
    "Stealing tap water, gas, electricity or heat",
    "Failing twice to answer a court summons",
    "Head of household fails to register a rental",
    "闯红灯",
    "酒后驾驶",
    "偷税漏税",
    "无偿献血",
    "骨髓捐献",
    "见义勇为",
    "虐待家庭成员或不赡养老人",
    "拾金不昧",
    "公共场所打架斗殴",
    "不按规定分类投放垃圾",
    "志愿服务100小时",
    "泄露敏感数据",
    "生育保险欺诈",
    "恶意拖欠工资",
    "考试作弊",
]

LEGITIMATE_BASES = [
    "Civil Code art. 7, principle of good faith",
    "Road Traffic Safety Law, art. 38 and 90",
    "Public Security Administration Punishments Law, art. 26",
    "Civil Servants Law, art. 35",
    "Criminal Procedure Law, art. 52 (evidence gathering)",
    "Regulations on Disciplinary Measures, circulated criticism",
    "Guarantee Law, joint liability of the guarantor",
    "民法典第七条 诚实信用原则",
    "道路交通安全法第三十八条",
]


@pytest.mark.parametrize("text", LEGITIMATE)
def test_legitimate_title_is_not_refused(text: str) -> None:
    assert protected_ground_matches(text) == []
    catalogue = parse_catalogue(_document(title=text, title_zh=text, description=text))
    assert catalogue.rules["R-1"].title == text


@pytest.mark.parametrize("basis", LEGITIMATE_BASES)
def test_legitimate_legal_basis_is_not_refused(basis: str) -> None:
    assert protected_ground_matches(basis) == []
    assert parse_catalogue(_document(legal_basis=basis)).rules["R-1"].legal_basis == basis


@pytest.mark.parametrize(
    "category",
    [
        "traffic",
        "public-order",
        "tax",
        "public-service",
        "volunteering",
        "judicial",
        "social-honesty",
        "environment",
        "finance",
        "community",
        "public-health",
        "anti-fraud",
        "self-criticism",
        "civil_service",
    ],
)
def test_legitimate_category_is_not_refused(category: str) -> None:
    assert parse_catalogue(_document(category=category)).rules["R-1"].category == category


def test_a_catalogue_of_only_legitimate_rules_loads() -> None:
    document = _document()
    template = document["rules"][0]
    document["rules"] = [
        {**template, "code": f"R-{i}", "title": title, "legal_basis": basis}
        for i, (title, basis) in enumerate(
            zip(LEGITIMATE, LEGITIMATE_BASES * len(LEGITIMATE), strict=False)
        )
    ]
    assert len(parse_catalogue(document).rules) == len(LEGITIMATE)


# --- the vocabulary itself --------------------------------------------------------------------


def test_grounds_cover_the_design_list() -> None:
    labels = " | ".join(ground.label for ground in GROUNDS)
    for ground in (
        "ethnic origin",
        "religion or belief",
        "political opinion",
        "petitioning or speech",
        "assembly",
        "trade-union membership",
        "health",
        "sex life or orientation",
    ):
        assert ground in labels
    codes = [ground.code for ground in GROUNDS]
    assert len(codes) == len(set(codes))


def test_english_terms_compile_and_can_match_folded_text() -> None:
    # Text is case-folded before matching, so a literal capital letter could never match.
    for ground in GROUNDS:
        assert ground.english and ground.chinese, ground.code
        for term in ground.english:
            re.compile(term)
            literal = re.sub(r"\\.", "", term)
            assert literal == literal.lower(), (ground.code, term)


def test_chinese_terms_have_no_spaces_and_match_themselves() -> None:
    # Chinese terms are looked for in the text with spaces removed, so a space would never match.
    for ground in GROUNDS:
        for term in ground.chinese:
            assert term and " " not in term and term == term.strip(), (ground.code, term)
            assert ground in [found for found, _ in protected_ground_matches(term)], term


@settings(deadline=None, max_examples=300)
@given(
    ground_term=st.sampled_from([(g, t) for g in GROUNDS for t in g.chinese]),
    before=st.text(alphabet="的了在和是一个违规行为处理罚款 ", max_size=8),
    after=st.text(alphabet="的了在和是一个违规行为处理罚款 ", max_size=8),
)
def test_property_chinese_term_found_inside_any_text(
    ground_term: Any, before: str, after: str
) -> None:
    ground, term = ground_term
    found = [g for g, _ in protected_ground_matches(before + term + after)]
    assert ground in found


@settings(deadline=None, max_examples=300)
@given(
    label_text=st.sampled_from(ENGLISH),
    before=st.sampled_from(["", "Repeated ", "Serious case: ", "(a) "]),
    after=st.sampled_from(["", " after a warning", ", second offence", " (see notes)"]),
)
def test_property_english_wording_found_with_surrounding_words(
    label_text: tuple[str, str], before: str, after: str
) -> None:
    label, text = label_text
    if before and label == OTHER:
        # "Child enlists..." is matched at the start of a title on purpose; only test suffixes.
        before = ""
    labels = [g.label for g, _ in protected_ground_matches(before + text + after)]
    assert any(found.startswith(label) for found in labels), (before + text + after, labels)
