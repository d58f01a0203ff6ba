"""An order's drawings and specifications: the buyer attaches them, the factories offered the order's work
download them, nobody else sees them, and a file that is not what it says is refused whole."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from agglo.access.models import AccessLogEntry, Membership
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import Notification
from agglo.factory.models import OrderDocument
from agglo.factory.services.documents import MAX_DOCUMENTS, order_documents_add
from agglo.factory.services.orders import order_cancel
from tests.conftest import user
from tests.factory.conftest import signed_in
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
STEP = b"ISO-10303-21;\nHEADER;\nFILE_NAME('housing.step');\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"


def gerber_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:  # dated, so that the bytes (and the tests' ids) are the same every run
        z.writestr(zipfile.ZipInfo("board.GTL", (2026, 12, 1, 0, 0, 0)), "G04 top copper*\nM02*\n")
        z.writestr(zipfile.ZipInfo("board.DRL", (2026, 12, 1, 0, 0, 0)), "M48\nM30\n")
    return out.getvalue()


def upload(name: str, body: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/octet-stream")


def test_the_buyer_attaches_drawings_and_the_factories_offered_the_work_download_them(
    cluster: dict[str, Any], make_org: Any
) -> None:
    order = planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    r = buyer.post(
        f"/factory/orders/{order.pk}/documents/",
        {"files": [upload("外壳图纸 rev B.pdf", PDF), upload("housing.stp", STEP), upload("gerber.zip", gerber_zip())]},
    )
    assert r.status_code == 302 and r["Location"].endswith("#documents")
    docs = list(order.documents.order_by("id"))
    assert [(d.original_name, d.content_type) for d in docs] == [
        ("外壳图纸 rev B.pdf", "application/pdf"),
        ("housing.stp", "model/step"),
        ("gerber.zip", "application/zip"),
    ]
    page = buyer.get(f"/factory/orders/{order.pk}/").content.decode()
    assert "外壳图纸 rev B.pdf" in page and 'id="documents-form"' in page
    # every factory with work on the order heard of them, in its admins' language
    offered = set(order.allocations.values_list("factory_id", flat=True))
    told = Notification.objects.filter(verb="factory.order_documents")
    assert told.count() == len(offered)
    assert told.first().texts["en"] == (
        "The buyer of order 工业网关外壳 attached 3 files: 外壳图纸 rev B.pdf, housing.stp, gerber.zip."
    )
    assert (
        told.first().texts["zh-hans"]
        == "订单 工业网关外壳 的买方附上了 3 个文件：外壳图纸 rev B.pdf、housing.stp、gerber.zip。"
    )
    # a factory offered the work downloads them (as a download, never inline), and sees no upload form
    name = next(n for n, o in cluster["orgs"].items() if o.pk in offered)
    factory = signed_in(cluster["people"][name])
    got = factory.get(f"/factory/documents/{docs[1].pk}/")
    assert got.status_code == 200 and b"".join(got.streaming_content) == STEP
    assert got["Content-Disposition"].startswith("attachment") and "no-store" in got["Cache-Control"]
    # the buyer's access log says which factory took its drawings, and when; its own downloads are not logged
    buyer.get(f"/factory/documents/{docs[1].pk}/")
    log = AccessLogEntry.objects.filter(owner=cluster["orgs"]["buyer"], group="drawings")
    assert [(e.viewer_id, e.channel) for e in log] == [(cluster["people"][name].pk, "page")]
    page = factory.get(f"/factory/orders/{order.pk}/").content.decode()
    assert "housing.stp" in page and 'id="documents-form"' not in page
    board = factory.get("/factory/jobs/").content.decode()  # each offer says its order has drawings to read
    assert f'href="/factory/orders/{order.pk}/#documents">图纸 3 份</a>' in board
    assert factory.post(f"/factory/orders/{order.pk}/documents/", {"files": [upload("x.pdf", PDF)]}).status_code in (
        403,
        404,
    )
    assert factory.post(f"/factory/documents/{docs[0].pk}/remove/").status_code == 403
    # a factory the order was never offered to, and a stranger, are told there is no such file
    outsider = make_org()
    someone = user("outsider-admin")
    Membership.objects.create(user=someone, organization=outsider, role=Membership.Role.ADMIN)
    assert signed_in(someone).get(f"/factory/documents/{docs[0].pk}/").status_code == 404
    assert signed_in(someone).get(f"/api/v1/factory/orders/{order.pk}/documents").status_code == 404
    assert buyer.get("/factory/documents/999999/").status_code == 404
    # the buyer removes one; the audit trail keeps its name and digest
    assert buyer.post(f"/factory/documents/{docs[0].pk}/remove/").status_code == 302
    assert list(order.documents.values_list("original_name", flat=True)) == ["housing.stp", "gerber.zip"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 64),
        ("page.pdf", b"%PDF-1.7\n<html><script>alert(1)</script></html>"),  # a PDF header on other bytes
        ("model.step", b"ISO-10303-21;\nHEADER;\n"),  # cut short: no END line
        ("cut.zip", gerber_zip()[:40]),
        # a ZIP header and an empty end record glued around a page (review 90): no directory lists a member
        ("fake.zip", b"PK\x03\x04<html><script>alert(1)</script></html>" + b"PK\x05\x06" + b"\x00" * 18),
        ("notes.txt", "技术要求：表面阳极氧化".encode()),
    ],
    ids=["exe", "pdf-header-on-html", "step-cut-short", "zip-cut-short", "zip-end-record-faked", "text"],
)
def test_a_file_that_is_not_a_drawing_is_refused_and_nothing_is_kept(
    cluster: dict[str, Any], name: str, body: bytes
) -> None:
    order = planned(cluster)
    with pytest.raises(ValidationFailed) as refused:
        order_documents_add(
            actor=cluster["people"]["buyer"], order=order, files=[upload("good.pdf", PDF), upload(name, body)]
        )
    assert refused.value.errors["files"] == [f"{name} 不是此处接受的文件类型（PDF、PNG、JPEG、STEP、ZIP）。"]
    assert not OrderDocument.objects.exists()


def test_only_the_buyers_deciders_attach_and_not_to_a_closed_order_nor_beyond_the_limit(
    cluster: dict[str, Any], make_org: Any
) -> None:
    order = planned(cluster)
    buyer = cluster["people"]["buyer"]
    name = next(n for n, o in cluster["orgs"].items() if o.pk == order.allocations.first().factory_id)
    with pytest.raises(Forbidden):
        order_documents_add(actor=cluster["people"][name], order=order, files=[upload("a.pdf", PDF)])
    order_documents_add(actor=buyer, order=order, files=[upload(f"{i}.pdf", PDF) for i in range(MAX_DOCUMENTS - 1)])
    with pytest.raises(ValidationFailed) as over:
        order_documents_add(actor=buyer, order=order, files=[upload("a.pdf", PDF), upload("b.pdf", PDF)])
    assert "files" in over.value.errors and order.documents.count() == MAX_DOCUMENTS - 1
    with pytest.raises(ValidationFailed) as empty:
        order_documents_add(actor=buyer, order=order, files=[])
    assert empty.value.errors == {"files": ["请至少上传一个文件。"]}
    order_cancel(actor=buyer, order=order, reason="需求取消")
    with pytest.raises(ValidationFailed) as closed:
        order_documents_add(actor=buyer, order=order, files=[upload("late.pdf", PDF)])
    assert closed.value.errors == {"status": ["该订单已关闭。"]}


def test_the_api_lists_attaches_serves_and_removes_them(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    url = f"/api/v1/factory/orders/{order.pk}/documents"
    r = buyer.post(url, {"files": [upload("bracket.pdf", PDF)]})
    assert r.status_code == 201, r.content
    (doc,) = r.json()
    assert doc["original_name"] == "bracket.pdf" and doc["size"] == len(PDF) and len(doc["sha256"]) == 64
    assert [d["id"] for d in buyer.get(url).json()] == [doc["id"]]
    bad = buyer.post(url, {"files": [upload("x.pdf", b"not a pdf")]})
    assert bad.status_code == 422 and "x.pdf" in bad.json()["errors"]["files"][0]
    name = next(n for n, o in cluster["orgs"].items() if o.pk == order.allocations.first().factory_id)
    factory = signed_in(cluster["people"][name])
    got = factory.get(f"/api/v1/factory/documents/{doc['id']}")
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    assert AccessLogEntry.objects.filter(group="drawings", channel="api").count() == 1
    assert factory.delete(f"/api/v1/factory/documents/{doc['id']}").status_code == 403
    assert buyer.delete(f"/api/v1/factory/documents/{doc['id']}").status_code == 204
    assert buyer.get(url).json() == []


def test_drawings_come_with_a_new_order_or_the_order_is_not_saved(cluster: dict[str, Any]) -> None:
    """Entered with the order on its form: a bad file names itself beside the file box, and neither the order nor
    the good files are kept; good files are the order's from the start."""
    from agglo.factory.models import Order
    from tests.factory.conftest import order_data

    buyer = signed_in(cluster["people"]["buyer"])
    data = order_data()
    form = {k: v for k, v in data.items() if k != "operations"}
    for n, op in enumerate(data["operations"], start=1):
        form |= {f"op-{n}-process": op["process"], f"op-{n}-quantity": op["quantity"]}
        form |= {f"op-{n}-after": ", ".join(map(str, op.get("after", [])))}
    form["buyer"] = cluster["orgs"]["buyer"].pk
    bad = buyer.post("/factory/orders/new/", {**form, "files": [upload("a.pdf", PDF), upload("b.pdf", b"<html>")]})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'id="documents-errors"' in page and "b.pdf 不是此处接受的文件类型" in page and "请重新选择文件" in page
    assert not Order.objects.exists() and not OrderDocument.objects.exists()
    good = buyer.post("/factory/orders/new/", {**form, "draft": "1", "files": [upload("a.pdf", PDF)]})
    assert good.status_code == 302
    (order,) = Order.objects.all()
    assert list(order.documents.values_list("original_name", flat=True)) == ["a.pdf"]


def test_a_factory_planned_out_of_the_order_and_auditors_read_no_drawings(cluster: dict[str, Any]) -> None:
    """Review 90: a factory that declined everything kept getting the buyer's later revisions, and so did
    auditors. Operators, who rule on disputes over what was made, read them."""
    from agglo.access.models import PlatformRole
    from agglo.factory.services.jobs import allocation_respond

    order = planned(cluster)
    buyer = cluster["people"]["buyer"]
    mine = order.allocations.filter(status="offered").order_by("id").first()
    name = next(n for n, o in cluster["orgs"].items() if o.pk == mine.factory_id)
    for _round in range(10):  # each decline re-plans, which may offer the factory another step
        a = order.allocations.filter(factory_id=mine.factory_id, status="offered").first()
        if a is None:
            break
        allocation_respond(actor=cluster["people"][name], allocation=a, action="decline", whole_step=True)
    assert not order.allocations.filter(factory_id=mine.factory_id, status__in=["offered", "accepted"]).exists()
    (doc,) = order_documents_add(actor=buyer, order=order, files=[upload("rev-C.pdf", PDF)])
    gone = signed_in(cluster["people"][name])
    assert gone.get(f"/factory/documents/{doc.pk}/").status_code == 404
    assert gone.get(f"/api/v1/factory/orders/{order.pk}/documents").json() == []
    assert "rev-C.pdf" not in gone.get(f"/factory/orders/{order.pk}/").content.decode()
    auditor = user("auditor-1")
    PlatformRole.objects.create(user=auditor, role=PlatformRole.Role.AUDITOR)
    assert signed_in(auditor).get(f"/factory/documents/{doc.pk}/").status_code == 404
    assert signed_in(cluster["operator"]).get(f"/factory/documents/{doc.pk}/").status_code == 200


def test_a_failure_after_the_files_are_written_leaves_none_behind_and_a_removal_waits_for_its_commit(
    cluster: dict[str, Any], monkeypatch: Any
) -> None:
    """Review 90: a notice that failed after the files were written rolled back their rows and left the files;
    a removal deleted the file before its transaction ended, so a rollback kept a row without its file."""
    from django.core.files.storage import default_storage
    from django.db import transaction

    from agglo.factory.services import documents
    from agglo.factory.services.documents import order_document_remove

    order = planned(cluster)
    buyer = cluster["people"]["buyer"]

    def stored() -> set[str]:
        root = Path(default_storage.path("orders"))
        return {str(f) for f in root.rglob("*") if f.is_file()} if root.exists() else set()

    written = stored()

    def fails(*args: Any, **kw: Any) -> None:
        raise RuntimeError("mail server down")

    monkeypatch.setattr(documents, "_tell_serving", fails)
    with pytest.raises(RuntimeError):
        order_documents_add(actor=buyer, order=order, files=[upload("a.pdf", PDF), upload("b.step", STEP)])
    monkeypatch.undo()
    assert not OrderDocument.objects.exists() and stored() == written
    (doc,) = order_documents_add(actor=buyer, order=order, files=[upload("c.pdf", PDF)])
    pk, name = doc.pk, doc.file.name
    with pytest.raises(RuntimeError), transaction.atomic():
        order_document_remove(actor=buyer, document=doc)
        raise RuntimeError("the caller's transaction fails after the removal")
    assert OrderDocument.objects.get(pk=pk).file.name == name and default_storage.exists(name)
