import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def test_reloading_restores_changed_and_missing_shipped_rows_and_keeps_added_ones(ref):
    from agglo.profiles.models import CapabilityTerm
    from agglo.profiles.services import catalogue_load

    Region.objects.filter(code="440300").update(name_en="Renamed")
    Region.objects.create(code="999999", name_zh="测试", name_en="Test", level="prefecture", parent_id="CN")
    Segment.objects.filter(code="ic-eda").update(name_zh="改名", order=99)
    link = SegmentLink.objects.filter(upstream__chain__code="ic").first()
    up, down = link.upstream_id, link.downstream_id
    link.delete()
    term = CapabilityTerm.objects.first()
    CapabilityTerm.objects.filter(pk=term.pk).update(name_zh="改名", synonyms="x")

    reference_data_load()
    catalogue_load()

    assert Region.objects.get(code="440300").name_en == "Shenzhen"
    assert Region.objects.filter(code="999999").exists()  # rows the files do not name are left alone
    eda = Segment.objects.get(code="ic-eda")
    assert eda.name_zh != "改名" and eda.order != 99
    assert SegmentLink.objects.filter(upstream_id=up, downstream_id=down).exists()
    term.refresh_from_db()
    assert term.name_zh != "改名" and term.synonyms != "x"


def test_a_cyclic_chain_file_is_refused_before_anything_is_written(ref, monkeypatch, tmp_path):
    import json

    from agglo.registry.services import reference

    chains = json.loads((reference.DATA_DIR / "chains.json").read_text(encoding="utf-8"))
    Region.objects.filter(code="440300").update(name_en="Renamed")
    first = chains[0]
    a, b = first["segments"][0]["code"], first["segments"][1]["code"]
    first["links"] += [[a, b], [b, a]]
    for name in ("countries.csv", "regions_cn.csv"):
        (tmp_path / name).write_bytes((reference.DATA_DIR / name).read_bytes())
    (tmp_path / "chains.json").write_text(json.dumps(chains), encoding="utf-8")
    monkeypatch.setattr(reference, "DATA_DIR", tmp_path)
    with CaptureQueriesContext(connection) as seen, pytest.raises(ValueError):
        reference_data_load()
    # refused before any write, not only rolled back with the loader's transaction
    writes = [q["sql"] for q in seen.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []
    assert Region.objects.get(code="440300").name_en == "Renamed"


def test_every_chinese_region_has_an_english_name_of_its_own(ref):
    # review 56b: 泰州 and 台州 both read "Taizhou", and Jilin was a province and a city
    from collections import Counter

    names = Counter(Region.objects.filter(country_code="CN").exclude(level="country").values_list("name_en", flat=True))
    assert [n for n, count in names.items() if count > 1] == []
    assert Region.objects.get(code="321200").name_en == "Taizhou, Jiangsu"
    assert (
        Region.objects.get(code="220000").name_en == "Jilin"
        and Region.objects.get(code="220200").name_en == "Jilin, Jilin"
    )
    assert Region.objects.get(code="440300").name_en == "Shenzhen"  # a name of its own stays as it is
