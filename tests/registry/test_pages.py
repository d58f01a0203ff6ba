import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from agglo.registry.models import Admission, Organization
from tests.conftest import PDF, make_uscc, user

pytestmark = pytest.mark.django_db


def test_pages_are_chinese_by_default_and_english_on_request(make_org, client):
    make_org()
    page = client.get("/directory/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")  # the browser's language is not used
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
    assert "成员名录" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/directory/"})
    page = client.get("/directory/").content.decode()
    assert '<html lang="en">' in page and "Member directory" in page
    api = Client().get("/api/v1/organizations", {"kind": "x"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert api["title"] == "The input is not valid."


def test_directory_search_facets_and_htmx_partial(make_org, client):
    make_org(name_zh="深圳华芯集成电路设计有限公司", tags=["芯片"])
    make_org(
        name_zh="无锡芯源半导体有限公司",
        region="320200",
        uscc=make_uscc("320200", "MA1CCCCC1"),
        kind="enterprise",
    )
    page = client.get("/directory/", {"q": "集成电路"}).content.decode()
    assert "深圳华芯集成电路设计有限公司" in page and "无锡芯源半导体有限公司" not in page
    partial = client.get("/directory/", {"kind": "enterprise"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "无锡芯源半导体有限公司" in partial and "深圳华芯" not in partial
    bad = client.get("/directory/", {"kind": "pirate"})
    assert bad.status_code == 400 and "pirate" in bad.content.decode()


def test_directory_query_count_is_pinned(make_org, client):
    for _ in range(5):
        make_org()
    client.get("/directory/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as queries:
        client.get("/directory/", {"q": "深圳", "chain": "ic"})
    # count + page + 4 facets + chain/segment names + area names + chain lookup; no per-row queries
    assert len(queries) <= 12, [q["sql"][:120] for q in queries]


def test_organization_page_and_chain_map_with_gaps(make_org, client):
    org = make_org()
    from agglo.registry.models import Position  # noqa: F401
    from agglo.registry.services import position_add

    operator = user("op2", role="operator")
    position_add(actor=operator, organization=org, segment_code="ic-fab", role="produces")
    page = client.get(f"/organizations/{org.pk}/").content.decode()
    assert org.name_zh in page and "晶圆" in page or "Fab" in page
    chain_page = client.get("/chains/ic/").content.decode()
    assert 'data-segment="ic-fab"' in chain_page
    assert 'class="segment gap" data-segment="ic-eda"' in chain_page
    # the graph's arrows as text on the cards (review 49): each segment names those downstream of it
    assert chain_page.count('class="muted feeds"') >= 3 and "下游：" in chain_page
    assert client.get("/chains/nope/").status_code == 404
    assert client.get("/organizations/999999/").status_code == 404


def test_apply_form_shows_field_errors_and_saves_nothing(ref, client):
    page = client.post(
        "/apply/",
        {
            "name_zh": "测试",
            "kind": "tech_sme",
            "region": "440300",
            "uscc": "91440300MA5DXXXX01",
            "contact_name": "张三",
            "contact_email": "zs@example.com",
            "password": "Good-pass-2026",
            "password_again": "Good-pass-2026",
        },
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert "GB 32100-2015" in html and 'data-field="documents"' in html
    assert Organization.objects.count() == 0


def test_apply_and_review_through_pages(ref, client):
    form = {
        "name_zh": "合肥量启科技有限公司",
        "kind": "tech_sme",
        "region": "340100",
        "uscc": make_uscc("340100", "MA2QQQQ01"),
        "contact_name": "赵六",
        "contact_email": "zl@lq.example",
        "password": "Liangqi-pass-2026",
        "password_again": "Liangqi-pass-2026",
        "documents": SimpleUploadedFile("licence.pdf", PDF, "application/pdf"),
    }
    response = client.post("/apply/", form)
    assert response.status_code == 302
    status_page = client.get(response["Location"]).content.decode()
    assert 'data-status="submitted"' in status_page
    admission = Admission.objects.get()
    assert client.get("/review/").status_code == 302  # anonymous: to the login page
    client.force_login(user("plain-member"))
    assert client.get("/review/").status_code == 403
    client.force_login(user("op3", role="operator"))
    assert "合肥量启科技有限公司" in client.get("/review/").content.decode()
    doc = admission.documents.get()
    assert client.get(f"/review/{admission.pk}/documents/{doc.pk}/").status_code == 200
    assert 'id="code-province"' not in client.get(f"/review/{admission.pk}/").content.decode()  # code from Anhui
    page = client.post(f"/review/{admission.pk}/", {"action": "reject", "note": ""})
    assert page.status_code == 400
    client.post(f"/review/{admission.pk}/", {"action": "approve", "note": "欢迎"})
    admission.refresh_from_db()
    assert admission.status == "approved"


def test_document_downloads_are_for_operators_only(ref, client):
    client.force_login(user("someone"))
    assert client.get("/review/1/documents/1/").status_code == 403


def test_error_pages_do_not_leak_traces(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "Traceback" not in response.content.decode()


def test_org_admin_edits_profile_and_positions_on_pages(org_admin, make_org, client):
    admin, org = org_admin
    other = make_org()
    client.force_login(admin)
    assert client.get(f"/organizations/{other.pk}/edit/").status_code == 403
    page = client.get(f"/organizations/{org.pk}/")
    assert 'id="edit-organization"' in page.content.decode()
    form = {
        "org-name_zh": org.name_zh,
        "org-name_en": "Renamed Ltd.",
        "org-website": "not a url",
        "org-contacts_visibility": "partners",
        "org-contact_email": "x@y.example",
    }
    bad = client.post(f"/organizations/{org.pk}/edit/", form | {"org-headcount": "1e5", "org-founded_year": "9" * 20})
    said = bad.content.decode()
    assert bad.status_code == 400 and 'data-field="website"' in said
    # every bad field in one answer: the numbers are checked with the rest, not before them
    assert 'data-field="headcount"' in said and 'data-field="founded_year"' in said
    org.refresh_from_db()
    assert org.name_en != "Renamed Ltd."  # nothing saved while any field is bad
    form["org-website"] = "https://renamed.example"
    assert client.post(f"/organizations/{org.pk}/edit/", form).status_code == 302
    org.refresh_from_db()
    assert (org.name_en, org.contacts_visibility, org.contact_email) == ("Renamed Ltd.", "partners", "x@y.example")
    client.post(f"/organizations/{org.pk}/positions/", {"pos-segment": "bio-cro", "pos-role": "serves"})
    position = org.positions.get()
    assert position.segment.code == "bio-cro"
    client.post(f"/organizations/{org.pk}/positions/{position.pk}/remove/")
    assert not org.positions.exists()


def test_a_credit_code_issued_in_another_province_is_flagged_to_the_reviewer(ref, client):
    form = {
        "name_zh": "深圳异地注册科技有限公司",
        "kind": "tech_sme",
        "region": "440300",
        "uscc": make_uscc("110108", "MA2QQQQ02"),  # issued in Beijing
        "contact_name": "钱七",
        "contact_email": "qq@yd.example",
        "password": "Yidi-pass-2026",
        "password_again": "Yidi-pass-2026",
        "documents": SimpleUploadedFile("licence.pdf", PDF, "application/pdf"),
    }
    assert client.post("/apply/", form).status_code == 302
    admission = Admission.objects.get()
    client.force_login(user("op4", role="operator"))
    page = client.get(f"/review/{admission.pk}/").content.decode()
    flag = page.split('id="code-province"')[1].split("</div>")[0]
    assert "北京" in flag and "深圳" in flag
    assert "信用代码属外省" in client.get("/review/").content.decode()  # in the queue too


def test_one_answer_names_every_problem_of_an_application(ref, client):
    """Walk review 45 F1: the service's rules (credit code, year, website, documents) were checked only once the
    form's own passed, so the problems came in rounds, each dropping the files without a word."""
    client.cookies["django_language"] = "en"
    form = {
        "name_zh": "合肥量启科技有限公司",
        "kind": "tech_sme",
        "region": "340100",
        "uscc": "91320500MA1X2Y3Z4A",
        "founded_year": "2099",
        "website": "example.com",
        "contact_name": "赵六",
        "contact_email": "zl@lq.example",
        "password": "Liangqi-pass-2026",
        "password_again": "Liangqi-pass-2027",
    }
    response = client.post("/apply/", form)
    assert response.status_code == 400
    errors = dict(response.context["form"].errors.items())
    assert {"password_again", "uscc", "founded_year", "website", "documents"} <= set(errors), errors
    assert "attach the documents and enter both passwords again" in response.content.decode()
    assert not Admission.objects.exists()
