"""A member's text in the other language than the page's carries its own lang attribute (WCAG 3.1.2)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from agglo.web.templatetags.language_marks import lang_of


@pytest.mark.parametrize(
    ("page", "text", "mark"),
    [
        ("zh-hans", "Automotive-grade SiC foundry", ' lang="en"'),
        ("zh-hans", "碳化硅 SiC 代工", ""),  # Chinese with a Latin abbreviation is Chinese
        ("zh-hans", "12345", ""),  # no letters: nothing to say
        ("en", "深圳芯途半导体有限公司", ' lang="zh-Hans"'),
        ("en", "Shenzhen Xintu Semiconductor", ""),
        ("en", "", ""),
    ],
)
def test_the_mark_names_the_other_language_only(page, text, mark):
    with translation.override(page):
        assert lang_of(text) == mark


@pytest.mark.django_db
def test_a_chinese_only_name_on_an_english_profile_page_is_marked(make_org):
    org = make_org(name_zh="深圳芯途半导体有限公司", name_en="")
    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get(f"/organizations/{org.pk}/").content.decode()
    assert '<h1 lang="zh-Hans">深圳芯途半导体有限公司</h1>' in html
    zh = Client().get(f"/organizations/{org.pk}/").content.decode()
    assert "<h1>深圳芯途半导体有限公司</h1>" in zh


@pytest.mark.django_db
def test_members_text_in_the_other_language_is_marked_where_it_is_shown(make_org):
    """Review 49 a11y F5: tags, descriptions and contacts in the other language than the page's."""
    org = make_org(name_zh="深圳芯途半导体有限公司", tags=["碳化硅", "SiC foundry"], description="专注车规级碳化硅器件")
    client = Client()
    client.cookies["django_language"] = "en"
    html = client.get(f"/organizations/{org.pk}/").content.decode()
    assert '<span class="tag" lang="zh-Hans">碳化硅</span>' in html and '<span class="tag">SiC foundry</span>' in html
    assert '<p lang="zh-Hans">专注车规级碳化硅器件</p>' in html
    listed = client.get("/directory/").content.decode()
    assert '<span class="tag" lang="zh-Hans">碳化硅</span>' in listed
    zh = Client().get("/directory/").content.decode()
    assert '<span class="tag">碳化硅</span>' in zh and '<span class="tag" lang="en">SiC foundry</span>' in zh


@pytest.mark.django_db
def test_the_access_log_names_who_acted_in_the_readers_language(org_admin, member_of):
    from agglo.access.services import sensitive_views_record

    admin, org = org_admin
    viewer, agency = member_of("viewer", name_zh="某市科技局", name_en="City Science Bureau")
    sensitive_views_record(viewer=viewer, owner_ids=[org.pk], groups=["financials"], channel="page")
    client = Client()
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    table = client.get(f"/organizations/{org.pk}/tab/access/").content.decode().split('id="access-log"')[1]
    assert "<span>City Science Bureau</span>" in table and "某市科技局" not in table
    client.cookies["django_language"] = "zh-hans"
    table = client.get(f"/organizations/{org.pk}/tab/access/").content.decode().split('id="access-log"')[1]
    assert "<span>某市科技局</span>" in table
