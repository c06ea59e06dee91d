"""How often each rule of a catalogue fires in the synthetic town.

The rates are derived from a rule's attributes alone (who it applies to, sign and size of its
points, grade cap, blacklist, and words in its category, code and title), so that any valid
catalogue produces a plausible town. Each rule gets a relative rate per person-year of the
people it can apply to: everyday deductions (tickets, late fees) are the most common, bonuses
(volunteering, blood donation) less so, and anything that caps a grade or blacklists is rare;
within a class the rate falls with the size of the points, because heavier items are rarer
misconduct. Only the ratios matter: ``events`` scales them to the wanted number of events. So a
catalogue with many kinds of deductions has more deductions in all, as a real town would.
Per-code multipliers tune the reference catalogue without making other catalogues depend on them.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from socialcredit.domain.catalogue import Catalogue, Rule

__all__ = [
    "CLASS_RATES",
    "CLASS_STREAM",
    "REFERENCE_MULTIPLIERS",
    "RuleRate",
    "rule_class",
    "rule_rate",
    "rule_rates",
]

# Rough events per eligible person-year of a 5-point rule of each class before the keyword
# factors (the red-light ticket comes out at ~0.05: ~33,000 tickets a year in a city of
# 670,000). A catalogue shaped like Rongcheng's (dozens of small deductions, a dozen bonuses,
# a few sanctions) then gives roughly its reported one reward entry for every eight dishonesty
# entries (Xinhua 2015: 33,000 against 260,000). Public-service rates are per public servant:
# about one in ten is rated excellent in a year.
CLASS_RATES: Mapping[str, float] = {
    "minor": 0.006,  # small deductions: tickets, late fees, noise, parking (|points| <= 20)
    "major": 0.0015,  # bigger deductions without a cap or a blacklisting
    "serious": 0.0007,  # anything that caps the grade or blacklists: judgments, fights, fraud
    "bonus": 0.0005,  # volunteering, blood donation, donations, awards
    "service": 0.3,  # rules for public servants only: merit ratings, commendations
}
# Disciplinary public-service rules (negative points, caps, blacklisting) are rarer than merit
# ratings.
SERVICE_DEDUCTION_FACTOR = 0.15
# Which per-person propensity drives a class: misconduct clusters in the same few people,
# good deeds in others, and service rules concern public servants only.
CLASS_STREAM: Mapping[str, str] = {
    "minor": "conduct",
    "major": "conduct",
    "serious": "conduct",
    "bonus": "merit",
    "service": "service",
}
# Words (lowercase, matched in category, code and title) that make a rule more or less common
# than its size alone suggests, within its class.
KEYWORD_MULTIPLIERS: tuple[tuple[str, float], ...] = (
    ("traffic", 4.0),
    ("parking", 2.0),
    ("speed", 2.0),
    ("fee", 2.0),
    ("utilit", 2.0),
    ("arrear", 1.5),
    ("overdue", 1.5),
    ("credit-card", 1.5),
    ("noise", 1.5),
    ("waste", 1.5),
    ("litter", 1.5),
    ("volunteer", 3.0),
    ("blood", 2.0),
    ("donat", 1.5),
    ("good-deed", 1.5),
    ("discipline", 0.5),
    ("dismiss", 0.1),
    ("demot", 0.3),
    ("brib", 0.2),
    ("expul", 0.2),
    ("court", 0.6),
    ("judicial", 0.6),
    ("criminal", 0.3),
    ("sentence", 0.3),
    ("national", 0.2),
    ("organ", 0.1),
    ("marrow", 0.1),
)
# Multipliers for codes of the bundled Rongcheng catalogue whose frequency we know better than
# the generic guess: the red-light ticket is the archetypal everyday entry (the seed article and
# Deutschlandfunk 2017 both use it as the example).
REFERENCE_MULTIPLIERS: Mapping[str, float] = {
    "TRAFFIC-RED-LIGHT": 2.0,
}
MINOR_POINTS = 20
ZERO_POINT_FACTOR = 0.1


@dataclass(frozen=True, slots=True)
class RuleRate:
    """``rate``: relative events per person-year of the people the rule applies to."""

    code: str
    rule_class: str
    stream: str
    rate: float


def rule_class(rule: Rule) -> str:
    """The class of a rule; see CLASS_RATES."""
    if rule.applies_to == "public-servants":
        return "service"
    if rule.grade_cap is not None or rule.blacklist_for is not None:
        return "serious"
    if rule.points > 0:
        return "bonus"
    return "minor" if -rule.points <= MINOR_POINTS else "major"


def _keyword_factor(rule: Rule) -> float:
    text = f"{rule.category} {rule.code} {rule.title}".lower().replace("_", "-").replace(" ", "-")
    factor = 1.0
    for word, multiplier in KEYWORD_MULTIPLIERS:
        if word in text:
            factor *= multiplier
    return factor


def _severity_factor(rule: Rule, catalogue: Catalogue) -> float:
    """Harsher caps and blacklistings are rarer: a cap at the worst grade is 4x rarer."""
    factor = 1.0
    if rule.grade_cap is not None and len(catalogue.grades) > 1:
        harshness = catalogue.grade_position(rule.grade_cap) / (len(catalogue.grades) - 1)
        factor *= 0.25**harshness
    if rule.blacklist_for is not None:
        factor *= 0.5
    return factor


def _size_factor(points: int) -> float:
    """1 at 5 points; a 5-point item is ~5x as common as a 30-point one, ~20x a 100-point one."""
    return ((1.0 + abs(points) / 10.0) / 1.5) ** -1.5 if points else ZERO_POINT_FACTOR


def rule_rate(
    rule: Rule, catalogue: Catalogue, multipliers: Mapping[str, float] = REFERENCE_MULTIPLIERS
) -> float:
    """Relative events per eligible person-year of ``rule`` (0 switches it off)."""
    name = rule_class(rule)
    # The severity of a sanction is in its cap or blacklisting, not in its points.
    rate = CLASS_RATES[name] * (1.0 if name == "serious" else _size_factor(rule.points))
    sanction = rule.grade_cap is not None or rule.blacklist_for is not None
    if name == "service" and (rule.points < 0 or sanction):
        rate *= SERVICE_DEDUCTION_FACTOR
    keywords = _keyword_factor(rule)
    if name == "serious":
        # Words of everyday items (traffic, fees) must not make a drunk-driving cap common.
        keywords = min(keywords, 1.0)
    rate *= keywords * _severity_factor(rule, catalogue)
    return rate * multipliers.get(rule.code, 1.0)


def rule_rates(
    catalogue: Catalogue, multipliers: Mapping[str, float] = REFERENCE_MULTIPLIERS
) -> list[RuleRate]:
    """The rate of every rule of ``catalogue`` that can fire, sorted by code."""
    rates = []
    for code in sorted(catalogue.rules):
        rule = catalogue.rules[code]
        rate = rule_rate(rule, catalogue, multipliers)
        if rate > 0:
            name = rule_class(rule)
            rates.append(RuleRate(code, name, CLASS_STREAM[name], rate))
    return rates
