import pytest

from agglo.common.errors import ValidationFailed
from agglo.registry.chains import topological_order
from agglo.registry.models import Chain, Region, Segment, SegmentLink
from agglo.registry.services import chain_link_add, reference_data_load

pytestmark = pytest.mark.django_db


def test_reference_data_is_complete_and_idempotent(ref):
    assert Region.objects.filter(level="province").count() == 34
    assert Region.objects.filter(level="prefecture").count() == 333
    assert Region.objects.filter(level="country").count() == 249
    assert Region.objects.get(code="440300").name_zh == "深圳市"
    assert Region.objects.get(code="440300").parent_id == "440000"
    assert Region.objects.get(code="440000").parent_id == "CN"
    before = (Region.objects.count(), Segment.objects.count(), SegmentLink.objects.count())
    reference_data_load()
    assert (Region.objects.count(), Segment.objects.count(), SegmentLink.objects.count()) == before


def test_shipped_chains_are_dags_with_bilingual_names(ref):
    assert set(Chain.objects.values_list("code", flat=True)) >= {"ic", "nev", "bio", "robot", "pv"}
    for chain in Chain.objects.all():
        codes = list(chain.segments.values_list("code", flat=True))
        links = list(
            SegmentLink.objects.filter(upstream__chain=chain).values_list("upstream__code", "downstream__code")
        )
        assert len(topological_order(codes, links)) == len(codes)
        assert all(s.name_zh and s.name_en for s in chain.segments.all())


def test_chain_link_refuses_a_cycle(ref, operator):
    design = Segment.objects.get(code="ic-design")
    eda = Segment.objects.get(code="ic-eda")
    with pytest.raises(ValidationFailed) as err:
        chain_link_add(actor=operator, upstream=design, downstream=eda)
    assert "环路" in err.value.errors["downstream"][0]
    assert not SegmentLink.objects.filter(upstream=design, downstream=eda).exists()
