"""The one customer filter: the same rule for a whole customer and the index's narrow row."""

from __future__ import annotations

from pathlib import Path

from crm.core.model import Customer, Location
from crm.index.store import Facets, facets
from crm.rules.filters import CustomerFilter

HERE = Location(Path("x.md"), 1)
ANA = Customer(
    id="ana",
    name="Ana",
    location=HERE,
    tags=("vip", "colour"),
    segment="salon",
    status="active",
    company="Lumen GmbH",
)
BO = Customer(id="bo", name="Bo", location=HERE, tags=("vip",), status="lead")


def test_every_filter_must_pass() -> None:
    assert CustomerFilter(tags=("vip",)).select([ANA, BO]) == [ANA, BO]
    assert CustomerFilter(tags=("vip", "colour")).select([ANA, BO]) == [ANA]
    assert CustomerFilter(tags=("VIP",)).select([ANA, BO]) == []  # tags match exactly
    assert CustomerFilter(segment="salon").select([ANA, BO]) == [ANA]
    assert CustomerFilter(status="lead").select([ANA, BO]) == [BO]
    assert CustomerFilter(tags=("vip",), status="lead", segment="salon").select([ANA, BO]) == []


def test_company_is_case_insensitive_and_none_is_no_company() -> None:
    assert CustomerFilter(company="lumen gmbh").select([ANA, BO]) == [ANA]
    assert CustomerFilter(company="LUMEN GMBH").matches(ANA)
    assert not CustomerFilter(company="Lumen").matches(ANA)
    assert CustomerFilter(company="").select([ANA, BO]) == [BO]


def test_the_index_row_is_judged_like_the_customer() -> None:
    choices = [
        CustomerFilter(),
        CustomerFilter(tags=("colour",)),
        CustomerFilter(company="lumen GmbH", status="active"),
        CustomerFilter(segment="salon", status="lead"),
    ]
    for f in choices:
        for c in (ANA, BO):
            assert f.matches(facets(c)) == f.matches(c)
    assert CustomerFilter().everyone and not CustomerFilter(status="lost").everyone
    assert CustomerFilter(tags=("vip",)).matches(Facets(("vip",), None, "lost", None, None))
