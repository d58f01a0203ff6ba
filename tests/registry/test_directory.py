import pytest
from django.contrib.auth.models import AnonymousUser

from agglo.common.errors import ValidationFailed
from agglo.registry import search_index
from agglo.registry.models import Position
from agglo.registry.selectors import DirectoryFilters, organization_search
from agglo.registry.services import position_add, position_remove
from tests.conftest import make_uscc

pytestmark = pytest.mark.django_db
ANON = AnonymousUser()


def search(**filters):
    return organization_search(actor=ANON, filters=DirectoryFilters(**filters))


@pytest.fixture
def cluster(make_org, operator):
    a = make_org(name_zh="深圳芯一微电子有限公司")
    b = make_org(name_zh="深圳芯二微电子有限公司", kind="enterprise")
    c = make_org(name_zh="苏州光伏一号有限公司", region="320500", uscc=make_uscc("320500", "MA1AAAAA1"))
    position_add(actor=operator, organization=a, segment_code="ic-design", role="produces")
    position_add(actor=operator, organization=a, segment_code="pv-cells", role="uses")
    position_add(actor=operator, organization=b, segment_code="ic-fab", role="produces")
    position_add(actor=operator, organization=c, segment_code="pv-cells", role="produces")
    return a, b, c


def facet(result, name):
    return {f["value"]: f["count"] for f in result.facets[name]}


def test_chain_codes_follow_positions(cluster, operator):
    a, _, _ = cluster
    a.refresh_from_db()
    assert a.chain_codes == "|ic|pv|"
    position_remove(actor=operator, position=Position.objects.get(organization=a, segment__code="pv-cells"))
    a.refresh_from_db()
    assert a.chain_codes == "|ic|"


def test_facets_leave_out_their_own_filter(cluster):
    result = search(chain="ic")
    assert result.total == 2
    assert facet(result, "chain") == {"ic": 2, "pv": 2}  # the chain facet ignores the chain filter
    assert facet(result, "kind") == {"tech_sme": 1, "enterprise": 1}
    assert facet(result, "segment") == {"ic-design": 1, "ic-fab": 1}
    result = search(chain="ic", kind="enterprise")
    assert [o.name_zh for o in result.items] == ["深圳芯二微电子有限公司"]
    assert facet(result, "kind") == {"tech_sme": 1, "enterprise": 1}
    assert facet(result, "area") == {"440000": 1}
    result = search(chain="pv", segment="pv-cells", q="深圳")
    assert [o.name_zh for o in result.items] == ["深圳芯一微电子有限公司"]
    assert facet(result, "area") == {"440000": 1}


def test_text_and_facets_agree_on_totals(cluster):
    result = search(q="微电子")
    assert result.total == len(result.items) == 2
    assert sum(facet(result, "kind").values()) == 2
    assert search(q="微电子", area="320000").total == 0
    assert search(q="？？").total == 0


def test_broad_queries_list_newest_first(cluster, monkeypatch):
    monkeypatch.setattr(search_index, "RANK_LIMIT", 1)
    result = search(q="有限公司")
    assert [o.pk for o in result.items] == sorted((o.pk for o in result.items), reverse=True)
    assert result.total == 3


def test_paging_and_limits(cluster):
    result = organization_search(actor=ANON, filters=DirectoryFilters(), page=2, page_size=2)
    assert result.pages == 2 and len(result.items) == 1
    with pytest.raises(ValidationFailed) as err:
        organization_search(actor=ANON, filters=DirectoryFilters(status="applicant"), page=0, page_size=500)
    assert set(err.value.errors) == {"page", "page_size", "status"}


def test_segment_alone_narrows_like_chain_and_segment(cluster):
    assert [o.name_zh for o in search(segment="ic-fab").items] == ["深圳芯二微电子有限公司"]
    assert search(segment="pv-cells").total == 2
    assert search(chain="ic", segment="pv-cells").total == 1


def test_the_directory_names_a_bad_filter_by_its_label_and_a_far_page_is_no_error(client):
    page = client.get("/directory/?area=ZZ&chain=nope").content.decode()
    said = page.split('class="errors" role="alert">')[1].split("</p>")[0]
    assert "area:" not in said and "chain:" not in said, said
    assert "地区：" in said and "产业链：" in said, said  # the labels the facets carry, with the reader's colon
    assert client.get("/directory/?page=" + "9" * 40).status_code == 200  # no overflow: an empty page


def test_a_credit_code_finds_its_holder(cluster, make_org, operator):
    """Walk review 45 F5: looking a firm up by its unified social credit code found nothing."""
    _a, _b, c = cluster
    typed = " ".join([c.uscc[:6].lower(), c.uscc[6:]])  # as people paste it: spaces, lower case
    found = search(q=typed)
    assert [o.pk for o in found.items] == [c.pk] and found.total == 1
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in c.uscc)  # as a Chinese input method types it (review 47)
    assert [o.pk for o in search(q=full_width).items] == [c.pk]
    assert facet(found, "kind") == {c.kind: 1}
    # a suspended member's code finds nothing: the directory lists members in good standing
    from agglo.registry.services import organization_set_status

    gone = make_org(name_zh="暂停机构有限公司", uscc=make_uscc("320500", "MA1BBBBB2"))
    organization_set_status(actor=operator, organization=gone, status="suspended")
    assert search(q=gone.uscc).total == 0
    assert search(q=make_uscc("320500", "MA1CCCCC3")).total == 0


def test_a_chosen_filter_with_nothing_left_stays_listed_to_be_taken_off(cluster, client):
    """Walk review 45 F4: a chosen value that matched nothing vanished from the filters, and went on narrowing
    every new search from the page unseen."""
    found = search(q="光伏", kind="bank", area="440000")
    assert found.total == 0 and facet(found, "kind") == {"bank": 0}
    assert facet(found, "area").get("440000") == 0
    page = client.get("/directory/?q=光伏&kind=bank").content.decode()
    assert 'data-facet="kind" data-value="bank"' in page and 'aria-current="true"' in page
