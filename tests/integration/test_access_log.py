"""Every read of a person's data is logged: score, statement, check, each export row.

DESIGN.md principle 2 and 5: the person sees who looked and why; a verifier's question, its
purpose and the answer are logged.
"""

from pathlib import Path

from tests.conftest import LI_NA, ZHANG_JIAN

from socialcredit.services import standing
from socialcredit.services.access import LOCAL, Actor, list_access
from socialcredit.services.consent import grant_consent
from socialcredit.services.people import import_people
from socialcredit.services.population import export_scores
from socialcredit.services.registry import Registry

BANK = Actor("bank-teller-7", "verifier", "Rongcheng Rural Commercial Bank")


def _actions(registry: Registry, person_id: str) -> list[tuple[str, str, str]]:
    return [
        (record.actor, record.action, record.purpose)
        for _id, record in reversed(list_access(registry, person_id))
    ]


def test_each_read_is_logged_with_actor_and_purpose(
    registry: Registry, people_file: Path, tmp_path: Path
):
    import_people(registry, people_file)
    grant_consent(registry, ZHANG_JIAN, "Rongcheng Rural Commercial Bank", "credit line", LOCAL)
    standing.score(registry, ZHANG_JIAN, actor=BANK, purpose="loan application")
    standing.statement(registry, ZHANG_JIAN, purpose="printed at the service hall")
    answer = standing.check(
        registry, ZHANG_JIAN, "civil-service-promotion", actor=BANK, purpose="credit line"
    )
    export_scores(registry, tmp_path / "scores.csv")
    assert _actions(registry, ZHANG_JIAN) == [
        ("bank-teller-7", "score", "loan application"),
        ("local", "statement", "printed at the service hall"),
        ("bank-teller-7", "check", "credit line"),
        ("local", "export", "scores export"),
    ]
    check = list_access(registry, ZHANG_JIAN)[1][1]
    assert check.organisation == "Rongcheng Rural Commercial Bank"
    assert check.detail is not None
    assert check.detail["policy"] == "civil-service-promotion"
    assert check.detail["eligible"] is answer.eligible
    assert _actions(registry, LI_NA) == [("local", "export", "scores export")]


def test_a_refused_read_logs_nothing(registry: Registry, people_file: Path):
    import_people(registry, people_file)
    try:
        standing.check(registry, ZHANG_JIAN, "no-such-policy", purpose="x")
    except Exception as error:  # noqa: BLE001 - the refusal itself is tested elsewhere
        assert error.__class__.__name__ == "UnknownPolicyError"
    assert list_access(registry, ZHANG_JIAN) == []


def test_access_log_pages_newest_first(sqlite_registry: Registry, people_file: Path):
    import_people(sqlite_registry, people_file)
    for n in range(5):
        standing.score(sqlite_registry, LI_NA, purpose=f"read {n}")
    first = list_access(sqlite_registry, LI_NA, limit=2)
    assert [record.purpose for _id, record in first] == ["read 4", "read 3"]
    rest = list_access(sqlite_registry, LI_NA, limit=10, before_id=first[-1][0])
    assert [record.purpose for _id, record in rest] == ["read 2", "read 1", "read 0"]
