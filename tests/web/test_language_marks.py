"""A member's text in the other language than the page's carries its own lang attribute (WCAG 3.1.2)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from agglo.web.templatetags.language_marks import lang_of, words


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


@pytest.mark.parametrize(
    ("name", "marked"),
    [
        # a break where two words meet (review 118), none inside one: 有限公司 whole
        ("苏州精工制造有限公司", "苏州<wbr>精工<wbr>制造<wbr>有限公司"),
        (
            "苏州工业园区精工智能装备与精密制造技术开发有限公司",
            "苏州工业园区<wbr>精工<wbr>智能<wbr>装备<wbr>与<wbr>精密<wbr>制造<wbr>技术开发<wbr>有限公司",
        ),
        ("成都蓉装科技有限公司", "成都<wbr>蓉装<wbr>科技<wbr>有限公司"),  # characters jieba leaves single, together
        ("工业网关外壳（补单）", "工业<wbr>网关<wbr>外壳（补单）"),  # brackets break as they would
        ("第3精密机械有限公司", "第3精密机械<wbr>有限公司"),  # only between Chinese words
        ("Suzhou Precision <Co.> & Partners", "Suzhou Precision &lt;Co.&gt; &amp; Partners"),  # escaped, as it was
        ("<b>上海</b>精工", "&lt;b&gt;上海&lt;/b&gt;精工"),
        (None, ""),
    ],
)
def test_a_name_may_break_only_between_its_words(name, marked):
    assert words(name) == f'<span class="words">{marked}</span>'


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
