from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import settings

from agglo.access.models import Membership, PlatformRole
from agglo.factory.models import Process
from agglo.factory.services.capacity import process_catalogue_load
from agglo.profiles.models import CapabilityTerm
from agglo.profiles.services import catalogue_load
from agglo.registry.models import Organization, Region
from agglo.registry.services import organization_create, reference_data_load
from agglo.registry.uscc import check_character

# Property tests check what holds, not how fast: on a loaded 2-core CI machine a quick example took past Hypothesis's
# 200 ms deadline and failed a test that was right (test_chains_pure). Speed has its benchmarks.
settings.register_profile("agglo", deadline=None)
settings.load_profile("agglo")


def _django_group(item: pytest.Item) -> int:
    """pytest-django's order: tests in a rolled-back transaction, then those that commit (and flush), then those
    without the database."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    if (marker and marker.kwargs.get("transaction")) or {"transactional_db", "live_server"} & set(fixtures):
        return 1
    return 0 if marker or "db" in fixtures else 2


def _same_on_any_database(item: pytest.Item) -> bool:
    """A test whose outcome cannot depend on the database: it uses none, or it checks how pages look (`looks`)."""
    return _django_group(item) == 2 or item.get_closest_marker("looks") is not None


def pytest_report_header() -> str | None:
    """Said at the top of the run: with pytest-xdist the workers leave the tests out, uncounted in the summary."""
    if os.environ.get("AGGLO_TEST_DATABASE_ONLY") == "1":
        return "AGGLO_TEST_DATABASE_ONLY=1: tests that use no database, or check only how pages look, are left out"
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Within each of pytest-django's groups, the tests marked `long` go first: a minute-long test handed out last
    kept one worker busy while the other had finished (CI's two cores).

    With `AGGLO_TEST_DATABASE_ONLY=1` (CI's second run, on PostgreSQL) the tests whose outcome cannot depend on the
    database are left out: they ran in the first run, on SQLite, and would run the same code on the same pages
    again. They took a quarter of the PostgreSQL run's test time (`--durations=0`, December 2026)."""
    if os.environ.get("AGGLO_TEST_DATABASE_ONLY") == "1":
        same = [item for item in items if _same_on_any_database(item)]
        if same:
            config.hook.pytest_deselected(items=same)
            items[:] = [item for item in items if not _same_on_any_database(item)]
    items.sort(key=lambda item: (_django_group(item), item.get_closest_marker("long") is None))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# a whole 1×1 grey PNG: signature, IHDR, IDAT and IEND (an upload must end as its format ends)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00:~\x9bU"
    b"\x00\x00\x00\nIDATx\x9cc`\x00\x00\x00\x02\x00\x01H\xaf\xa4q\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """The test database starts with the shipped reference data, so that `ref` finds it instead of loading it in
    every test (it then rolls back). Tests that flush the database (a live server) run last and reload it."""
    with django_db_blocker.unblock():
        reference_data_load()
        catalogue_load()
        process_catalogue_load()


@pytest.fixture
def ref(db: Any) -> None:
    """Regions, chains and the capability catalogue; reloaded when a transactional test flushed them."""
    if not Region.objects.filter(code="440300").exists():
        reference_data_load()
    if not CapabilityTerm.objects.exists():
        catalogue_load()
    if not Process.objects.exists():
        process_catalogue_load()


def make_uscc(division: str = "440300", body: str = "MA5DXXXX0") -> str:
    head = "91" + division + body
    return head + check_character(head)


def user(username: str, *, role: str | None = None, password: str = "pw-for-tests-1") -> Any:
    u = get_user_model().objects.create_user(username=username, password=password, email=f"{username}@t.example")
    if role:
        PlatformRole.objects.create(user=u, role=role)
    return u


@pytest.fixture
def operator(db: Any) -> Any:
    return user("op", role=PlatformRole.Role.OPERATOR)


_counter = iter(range(10**6))


@pytest.fixture
def make_org(ref: None, operator: Any):
    """Creates member organizations through the real service; unique codes per call."""

    def make(**overrides: Any) -> Organization:
        n = next(_counter)
        body = f"MA{n:06d}X"[:9].replace("I", "J")
        data = {
            "name_zh": f"深圳测试{n}号微电子科技有限公司",
            "name_en": f"Shenzhen Test {n} Microelectronics Co., Ltd.",
            "kind": "tech_sme",
            "region": "440300",
            "uscc": make_uscc("440300", body),
            "founded_year": 2015,
            "headcount": 80,
            "tags": ["芯片", "EDA"],
        }
        data.update(overrides)
        return organization_create(actor=operator, data=data, status=Organization.Status.MEMBER)

    return make


@pytest.fixture
def org_admin(make_org: Any):
    """(user, organization) where the user is the organization's admin."""
    org = make_org()
    u = user("orgadmin")
    Membership.objects.create(user=u, organization=org, role=Membership.Role.ADMIN)
    return u, org


def staggered(steps: dict[str, Callable[[], Any]], gap: float) -> dict[str, Any]:
    """Run each step in a thread of its name, started `gap` seconds after the one before (so that each holds what
    it takes first); each step's result or error, by name."""
    from django.db import connections

    outcome: dict[str, Any] = {}

    def run(name: str, step: Callable[[], Any]) -> None:
        try:
            outcome[name] = step()
        except BaseException as exc:  # noqa: BLE001 - reported to the test, which decides
            outcome[name] = exc
        finally:
            connections.close_all()

    threads = []
    for name, step in steps.items():
        threads.append(threading.Thread(target=run, args=(name, step), name=name))
        threads[-1].start()
        time.sleep(gap)
    for t in threads:
        t.join(60)
    return outcome


def streamed(response: Any) -> bytes:
    """The whole body of a download the platform streams (exports)."""
    return b"".join(response.streaming_content)


def upload(name: str = "licence.pdf", body: bytes = PDF, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type=content_type)


@pytest.fixture
def member_of(make_org: Any):
    """member_of(username, role="admin", **org fields) -> (user, organization) for another member organization."""

    def make(username: str, role: str = "admin", **org: Any):
        organization = make_org(**org)
        u = user(username)
        Membership.objects.create(user=u, organization=organization, role=role)
        return u, organization

    return make


@pytest.fixture
def english():
    """Messages in English, for assertions on their wording."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _default_language(settings):
    """Each test starts in the default language: a request handled in an earlier test leaves its own active (the
    middleware activates each request's language, as a server thread does), which would make wording order-dependent."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_facet_table():
    """Each test starts without a facet table or matching engine loaded from another test's database state."""
    from agglo.matching.selectors import LIVE
    from agglo.registry import facet_index

    facet_index.forget()
    LIVE.reset()
