"""A member posts a need in Chinese and gets explained counterparts from other provinces along its chain (one
written in English); it opens one and expresses interest; the other side is notified, accepts on its board and
starts a collaboration case; the need's owner sees the answer and the partner's contacts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from agglo.access.models import Membership
from agglo.market import services as market
from agglo.market.models import Interest
from agglo.matching.models import MatchEvent
from agglo.registry.services import position_add
from tests.conftest import make_uscc, user
from tests.e2e.test_admission_journey import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def firm(make_org, operator, name, region, segment, body, username, **extra):
    org = make_org(name_zh=name, region=region, uscc=make_uscc(region, body), **extra)
    position_add(actor=operator, organization=org, segment_code=segment, role="produces")
    admin = user(username, password=f"{username}-Pass-2026")
    Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
    return admin, org


def offer(admin, org, **data):
    listing = market.listing_create(actor=admin, organization=org, data={"side": "offer", "kind": "technology", **data})
    return market.listing_submit(actor=admin, listing=listing)


def test_post_a_need_get_explained_counterparts_and_close_the_loop(live_server, page, make_org, operator):
    base = live_server.url
    seeker, seeker_org = firm(make_org, operator, "深圳芯途半导体有限公司", "440300", "ic-design", "MC000001X", "xintu")
    fab, fab_org = firm(
        make_org,
        operator,
        "苏州晶创制造有限公司",
        "320500",
        "ic-fab",
        "MC000002X",
        "jingchuang",
        contact_name="王经理",
        contact_email="wang@jingchuang.example",
        contacts_visibility="partners",
    )
    peer, peer_org = firm(make_org, operator, "深圳同城设计有限公司", "440300", "ic-design", "MC000003X", "tongcheng")
    english = offer(
        fab,
        fab_org,
        title_en="Automotive-grade silicon carbide power device foundry",
        description_en="6-inch SiC MOSFET process line with AEC-Q101 qualification support.",
    )
    offer(peer, peer_org, title_zh="碳化硅功率器件版图设计服务")
    offer(fab, fab_org, title_zh="光伏组件测试", kind="equipment")

    # The seeker posts its need in Chinese.
    login(page, base, "xintu", "xintu-Pass-2026")
    page.goto(f"{base}/market/new/")
    page.select_option("#id_kind", "technology")
    page.fill("#id_title_zh", "寻求车规级碳化硅功率器件流片合作")
    page.fill("#id_description_zh", "我们完成了 1200V 碳化硅 MOSFET 设计，需要车规级工艺平台流片。")
    page.select_option("#id_terms", "sic-power")
    page.click("#listing-form button[name=publish]")
    expect(page.locator("#listing-status")).to_have_text("已发布")

    # Its matches: the English foundry in Jiangsu, downstream on its chain, explained; the peer after it.
    results = page.locator("#matches-listings li.match")
    expect(results.first).to_contain_text("Automotive-grade silicon carbide power device foundry")
    first = results.first
    expect(first).to_contain_text("苏州晶创制造有限公司")
    expect(first).to_contain_text("跨地区")
    expect(first.locator(".relation")).to_have_text("您的下游：晶圆制造 使用 芯片设计 的产出")
    expect(first).to_contain_text("碳化硅功率器件")
    expect(first).to_contain_text("车规级")
    expect(page.locator("#matches-listings")).not_to_contain_text("光伏组件测试")  # another kind
    expect(page.locator("#matches-organizations")).to_contain_text("苏州晶创制造有限公司")

    # It opens the foundry's offer and expresses interest.
    first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("Automotive-grade")
    page.select_option("#id_cooperation", "joint_rnd")
    page.fill("#id_message", "希望在贵司 6 英寸线上流片 1200V 器件。")
    page.fill("#id_missing", "车规认证周期")
    page.click("#interest-form button[type=submit]")
    expect(page.locator("#my-interest")).to_contain_text("新")
    page.click("text=退出登录")

    # The foundry is notified, accepts on its board and starts a case.
    login(page, base, "jingchuang", "jingchuang-Pass-2026")
    expect(page.locator("#nav-notifications .badge")).to_have_text("1")
    page.click("#nav-notifications")
    page.click("#notifications a")
    expect(page.locator("#nav-notifications .badge")).to_have_count(0)  # opening it marked it read
    interest = Interest.objects.get()
    row = page.locator(f"#interest-{interest.pk}")
    expect(row).to_contain_text("深圳芯途半导体有限公司")
    expect(row).to_contain_text("车规认证周期")
    asked: list[str] = []  # accepting says first what partners see of each other
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.locator("button", has_text="接受").click()
    expect(page.locator(f"#interest-{interest.pk} .status")).to_contain_text("已接受")
    assert "财务报表" in asked[0]
    page.locator(f"#interest-{interest.pk}").locator("button", has_text="发起协同创新案例").click()
    # the case drafted from the listing opens in its form, to be completed
    expect(page.locator("input[name=title]")).to_have_value(re.compile("Automotive-grade silicon carbide"))
    page.click("text=退出登录")

    # The seeker sees the acceptance and, as a partner now, the foundry's contacts.
    login(page, base, "xintu", "xintu-Pass-2026")
    page.goto(f"{base}/market/{english.pk}/")
    expect(page.locator("#my-interest")).to_contain_text("已接受")
    page.goto(f"{base}/organizations/{fab_org.pk}/")
    expect(page.locator("main")).to_contain_text("wang@jingchuang.example")

    kinds = set(MatchEvent.objects.filter(item_key=english.pk).values_list("kind", flat=True))
    assert kinds == {"impression", "click", "interest", "acceptance"}
