"""Short evidence texts of the kind agencies attach: ticket, decision and case numbers.

Each rule gets one template, chosen by words in its category, code and title; a template is a
prefix, the event's year, a middle part, a random number of fixed width and a suffix, so the
texts are built column-wise (``(2025)鲁1082执1234号`` is how a Rongcheng court numbers an
enforcement case: 鲁1082 is the court code of Rongcheng).
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from socialcredit.domain.catalogue import Rule

__all__ = [
    "EVIDENCE_NULL_SHARE",
    "Template",
    "evidence_columns",
    "evidence_expr",
    "template_for",
]

# Share of events sent without evidence (the column is optional in the event files).
EVIDENCE_NULL_SHARE = 0.3
# Working column names of the random parts.
NUMBER = "_evidence_number"
MISSING = "_evidence_missing"


@dataclass(frozen=True, slots=True)
class Template:
    prefix: str
    middle: str
    suffix: str
    digits: int


# First matching word wins; the order puts the specific words before the general ones.
TEMPLATES: tuple[tuple[tuple[str, ...], Template], ...] = (
    (
        ("traffic", "parking", "red-light", "speed", "drunk"),
        Template("公安交通管理行政处罚决定书 371082", "", "", 8),
    ),
    (
        ("court", "judicial", "judgment", "judgement", "enforcement", "debtor", "sentence"),
        Template("(", ")鲁1082执", "号", 4),
    ),
    (
        ("public-order", "public-security", "fight", "brawl", "police"),
        Template("荣公(治)行罚决字〔", "〕", "号", 5),
    ),
    (("tax",), Template("荣税稽罚〔", "〕", "号", 4)),
    (
        ("fee", "utilit", "heating", "water", "electric", "gas"),
        Template("arrears notice RC-", "-", "", 6),
    ),
    (
        ("loan", "credit-card", "bank", "financ", "contract"),
        Template("PBoC credit record ", "/", "", 7),
    ),
    (("volunteer",), Template("志愿服务记录 ZY", "", "", 6)),
    (("blood", "marrow", "organ"), Template("无偿献血证 鲁", "", "", 7)),
    (("donat", "charity"), Template("公益事业捐赠票据 ", "-", "", 6)),
    (
        ("public-service", "merit", "civil-serv", "official", "annual"),
        Template("荣人社字〔", "〕", "号", 3),
    ),
)
DEFAULT_TEMPLATE = Template("case ", "-", "", 6)


def template_for(rule: Rule) -> Template:
    """The evidence template for ``rule`` (DEFAULT_TEMPLATE when no word matches)."""
    text = f"{rule.category} {rule.code} {rule.title}".lower().replace("_", "-").replace(" ", "-")
    for words, template in TEMPLATES:
        if any(word in text for word in words):
            return template
    return DEFAULT_TEMPLATE


def evidence_columns(
    rng: np.random.Generator, rule_index: np.ndarray, templates: list[Template]
) -> dict[str, np.ndarray]:
    """The random parts of each event's evidence, as columns for ``evidence_expr``."""
    # A number of exactly ``digits`` digits: no zero padding needed.
    low = np.array([10 ** (t.digits - 1) for t in templates], dtype=np.int64)[rule_index]
    number = low + (rng.random(len(rule_index)) * (9 * low)).astype(np.int64)
    return {NUMBER: number, MISSING: rng.random(len(rule_index)) < EVIDENCE_NULL_SHARE}


def evidence_expr(templates: list[Template], rule: str, year: str) -> pl.Expr:
    """Evidence text from the columns ``rule`` (template index), ``year`` and those of
    ``evidence_columns``; one expression, so that Polars builds it in parallel."""

    def part(values: list[str]) -> pl.Expr:
        return pl.lit(pl.Series(values, dtype=pl.String)).gather(pl.col(rule))

    text = pl.concat_str(
        part([t.prefix for t in templates]),
        pl.col(year).cast(pl.String),
        part([t.middle for t in templates]),
        pl.col(NUMBER).cast(pl.String),
        part([t.suffix for t in templates]),
    )
    return pl.when(pl.col(MISSING)).then(None).otherwise(text)
