"""The synthetic Rongcheng: residents and agency reports for the demo, benchmarks and tests."""

from socialcredit.sim.events import build_events, employer_agencies, event_window
from socialcredit.sim.noise import NOISE_KINDS
from socialcredit.sim.people import ZHANG_JIAN_NAME, build_people, zhang_jian_id_of
from socialcredit.sim.town import Town, build_town

__all__ = [
    "NOISE_KINDS",
    "ZHANG_JIAN_NAME",
    "Town",
    "build_events",
    "build_people",
    "build_town",
    "employer_agencies",
    "event_window",
    "zhang_jian_id_of",
]
