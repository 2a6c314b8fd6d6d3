"""The documents portal, tulieuvankien.dangcongsan.vn, as the replica serves it.

Document pages (`/<section>/<subsection>/<slug>-<id>`, no `.html`), lists paged with
`?page=N` from 0, a book list and a book page with its PDF, and PDFs with a Vietnamese text
layer, one of them a scan without one (`data/files/`, made by scripts/make-replica-files.py).
Its markup is the replica's invention: no class name of it is in crawler/extract/markup.py,
so the crawler reads it by structure alone. The metadata of a document is stated the ways
such pages state it: a table of labelled fields, a definition list, or only the document's
own heading ("Số: …", "Hà Nội, ngày … tháng … năm …").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from urllib.parse import unquote

from .chrome import esc
from .model import START_NOW
from .page import HTML, TEXT, Page

HOST = "tulieuvankien.dangcongsan.vn"
LIVE = f"https://{HOST}"
PAGE_SIZE = 2  # documents per list page: small, so that the lists page
PDF = "application/pdf"
ROBOTS = "User-agent: *\nDisallow: /tim-kiem\n"
SCANNED = "/upload/2005/20230124/nghi-quyet-43-ban-chup.pdf"


@dataclass(frozen=True)
class Listing:
    path: str
    name: str
    query: str = ""  # a list named by its categoryId, as the portal names some


@dataclass
class Document:
    id: int
    listing: Listing
    slug: str
    title: str
    body: list[str]
    lead: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)  # labelled, as shown
    fields_as: str = "table"  # "table" or "dl"
    file: str | None = None  # the attached PDF's path
    book: bool = False

    @property
    def path(self) -> str:
        step = "/book/sach-chinh-tri" if self.book else ""
        return f"{self.listing.path}{step}/{self.slug}-{self.id}"


LAWS = Listing("/he-thong-van-ban/van-ban-quy-pham-phap-luat", "Văn bản quy phạm pháp luật")
RESOLUTIONS = Listing("/ban-chap-hanh-trung-uong-dang/nghi-quyet", "Nghị quyết, kết luận",
                      "categoryId=102000122")  # fmt: skip
CONGRESS = Listing("/ban-chap-hanh-trung-uong-dang/dai-hoi-dang/lan-thu-xi", "Đại hội XI")
EVENTS = Listing("/ho-so-su-kien-nhan-chung/su-kien-va-nhan-chung", "Sự kiện và nhân chứng")
BOOKS = Listing("/van-kien-tu-lieu-ve-dang", "Sách chính trị")
LISTINGS = (LAWS, RESOLUTIONS, CONGRESS, EVENTS)

_FILLER = (
    "Các cấp ủy, tổ chức đảng, cơ quan, đơn vị có trách nhiệm tổ chức quán triệt, triển khai "
    "thực hiện nghiêm túc, bảo đảm đúng mục đích, yêu cầu và tiến độ đề ra.",
    "Trong quá trình tổ chức thực hiện, nếu có vướng mắc, các cơ quan, đơn vị phản ánh kịp thời "
    "để được xem xét, hướng dẫn, sửa đổi, bổ sung cho phù hợp với tình hình thực tế.",
)


# Documents are long: the text outweighs what stands around it (a summary, a table of fields).
_MORE = (
    "Giao Văn phòng Trung ương Đảng chủ trì, phối hợp với các cơ quan liên quan theo dõi, "
    "đôn đốc, kiểm tra việc thực hiện và định kỳ báo cáo kết quả với cấp có thẩm quyền.",
    "Văn bản này được phổ biến đến chi bộ và đảng viên, được đăng tải trên các phương tiện "
    "thông tin đại chúng để cán bộ, đảng viên và nhân dân biết, thực hiện và giám sát.",
    "Các cơ quan tham mưu, giúp việc của Trung ương có trách nhiệm hướng dẫn chi tiết các nội "
    "dung thuộc phạm vi phụ trách, bảo đảm thống nhất trong toàn hệ thống chính trị.",
)


def documents() -> list[Document]:
    laws = [
        Document(
            6587,
            LAWS,
            "thong-tu-so-172020tt-bgddt-quy-dinh-ve-boi-duong-giao-vien",
            "Thông tư số 17/2020/TT-BGDĐT quy định về bồi dưỡng thường xuyên giáo viên",
            [
                "Thông tư này quy định về việc tổ chức dạy học, bồi dưỡng thường xuyên cho "
                "giáo viên mầm non trong hệ thống giáo dục quốc dân.",
                *_FILLER,
                *_MORE,
            ],
            lead="Thông tư quy định chương trình, nội dung và cách thức bồi dưỡng thường "
            "xuyên đối với giáo viên mầm non trên phạm vi cả nước.",
            fields=[
                ("Số hiệu", "17/2020/TT-BGDĐT"),
                ("Cơ quan ban hành", "Bộ Giáo dục và Đào tạo"),
                ("Ngày ban hành", "15/07/2020"),
                ("Loại văn bản", "Thông tư"),
            ],
            file="/upload/2005/20200715/thong-tu-17-2020-tt-bgddt.pdf",
        ),
    ]
    for n, (number, title) in enumerate(
        [
            ("25/2021/NĐ-CP", "Nghị định số 25/2021/NĐ-CP về quản lý hoạt động xuất bản"),
            ("12/2022/QĐ-TTg", "Quyết định số 12/2022/QĐ-TTg về công tác lưu trữ tài liệu"),
            ("30/2023/TT-BNV", "Thông tư số 30/2023/TT-BNV hướng dẫn công tác văn thư"),
        ]
    ):
        slug = number.lower().replace("/", "-").replace("đ", "d")
        laws.append(
            Document(
                6600 + n,
                LAWS,
                f"van-ban-{slug}",
                title,
                [
                    f"{title} được ban hành nhằm thống nhất quản lý nhà nước "
                    "trong lĩnh vực này trên phạm vi cả nước.",
                    *_FILLER,
                    *_MORE,
                ],
                fields=[("Số hiệu", number)],
            )
        )
    return [
        *laws,
        Document(7001, RESOLUTIONS, "nghi-quyet-so-43-nqtw-ve-tiep-tuc-phat-huy-truyen-thong",
                 "Nghị quyết số 43-NQ/TW về tiếp tục phát huy truyền thống, sức mạnh đại đoàn kết",
                 ["Nghị quyết của Ban Chấp hành Trung ương về tiếp tục phát huy truyền thống, sức "
                  "mạnh khối đại đoàn kết toàn dân tộc, xây dựng đất nước phồn vinh.",
                  *_FILLER, *_MORE],
                 fields=[("Số hiệu", "43-NQ/TW"), ("Cơ quan ban hành", "Ban Chấp hành Trung "
                         "ương"), ("Ngày ban hành", "ngày 24 tháng 11 năm 2023")],
                 fields_as="dl", file=SCANNED),
        Document(7002, RESOLUTIONS, "ket-luan-so-102-kltw-ve-nang-cao-chat-luong-sinh-hoat",
                 "Kết luận số 102-KL/TW về nâng cao chất lượng sinh hoạt chi bộ",
                 ["BAN CHẤP HÀNH TRUNG ƯƠNG", "Số 102-KL/TW",
                  "Hà Nội, ngày 22 tháng 9 năm 2024",
                  "Bộ Chính trị yêu cầu các cấp ủy, tổ chức đảng tiếp tục quán triệt, thực hiện "
                  "nghiêm các quy định về sinh hoạt chi bộ trong toàn Đảng.", *_FILLER, *_MORE],
                 file="/Uploads/2024/9/22/ket-luan-102-kl-tw.pdf"),
        Document(1528, CONGRESS, "cuong-linh-xay-dung-dat-nuoc-trong-thoi-ky-qua-do",
                 "Cương lĩnh xây dựng đất nước trong thời kỳ quá độ lên chủ nghĩa xã hội",
                 ["Cương lĩnh xây dựng đất nước trong thời kỳ quá độ lên chủ nghĩa xã hội (bổ "
                  "sung, phát triển năm 2011) được thông qua tại Đại hội XI của Đảng.",
                  "Thông qua tại Đại hội đại biểu toàn quốc lần thứ XI, ngày 16 tháng 1 năm 2011.",
                  *_FILLER, *_MORE],
                 file="/upload/2005/20110116/cuong-linh-2011.pdf"),
        Document(3342, EVENTS, "ngay-thanh-lap-dang-cong-san-viet-nam-3-2-1930",
                 "Ngày thành lập Đảng Cộng sản Việt Nam 3-2-1930",
                 ["Từ ngày 6 tháng 1 đến ngày 7 tháng 2 năm 1930, Hội nghị hợp nhất các tổ chức "
                  "cộng sản họp tại Cửu Long, Hương Cảng, Trung Quốc.", *_FILLER, *_MORE]),
        Document(403, BOOKS, "van-kien-dai-hoi-thoi-ky-doi-moi-tap-1",
                 "Văn kiện Đại hội đại biểu toàn quốc thời kỳ đổi mới, tập 1",
                 ["Cuốn sách tập hợp các văn kiện Đại hội đại biểu toàn quốc thời kỳ đổi mới, "
                  "phục vụ nghiên cứu, học tập của cán bộ, đảng viên và nhân dân.",
                  "Sách do Nhà xuất bản Chính trị quốc gia Sự thật ấn hành, gồm nhiều tập."],
                 file="/Uploads/2021/3/5/van-kien-dai-hoi-tap-1.pdf", book=True),
    ]  # fmt: skip


def _page(title: str, main: str, status: int = 200, when: datetime | None = None) -> Page:
    menu = "".join(
        f'<a href="{esc(x.path)}{"?" + x.query if x.query else ""}">{esc(x.name)}</a>'
        for x in LISTINGS
    )
    body = (
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        f"<title>{esc(title)} - Tư liệu văn kiện Đảng</title></head>\n<body>\n"
        f'<div class="tl-top"><a href="/">Tư liệu - Văn kiện Đảng</a><nav class="tl-nav">{menu}'
        f'<a href="{BOOKS.path}/book">Sách</a></nav></div>\n{main}\n'
        '<div class="tl-bottom"><p>Báo điện tử Đảng Cộng sản Việt Nam - Tư liệu văn kiện.</p>'
        '<p><a href="https://dangcongsan.vn/">Báo điện tử Đảng Cộng sản Việt Nam</a></p></div>\n'
        "</body></html>\n"
    )
    return Page(status, HTML, body.encode("utf-8"), "document", when or START_NOW)


class ReplicaDocuments:
    """tulieuvankien.dangcongsan.vn: pure, like ReplicaSite (render a path, no HTTP)."""

    def __init__(self) -> None:
        self.documents = documents()
        self.by_path = {d.path: d for d in self.documents}
        self.files = {d.file: d for d in self.documents if d.file}

    def in_listing(self, listing: Listing) -> list[Document]:
        return [d for d in self.documents if d.listing == listing and not d.book]

    def page(self, target: str) -> Page | None:
        path, _, query = target.partition("?")
        path = unquote(path)
        params = dict(p.partition("=")[::2] for p in query.split("&") if p)
        if path == "/robots.txt":
            return Page(200, TEXT, ROBOTS.encode(), "robots", START_NOW, compressible=False)
        if path == "/":
            return self.home()
        if path in self.by_path:
            return self.document(self.by_path[path])
        if path in self.files:
            name = path.rsplit("/", 1)[-1]
            data = resources.files(__package__).joinpath("data", "files", name).read_bytes()
            return Page(200, PDF, data, "file", START_NOW, compressible=False)
        if path in (BOOKS.path, f"{BOOKS.path}/book"):
            return self.book_list()
        for listing in LISTINGS:
            if path == listing.path:
                page = params.get("page", "0")
                return self.listing(listing, int(page) if page.isdigit() else 0)
        return None

    def urls(self) -> dict[str, list[str]]:
        """Paths by kind, as ReplicaSite.urls gives them."""
        lists = []
        for listing in LISTINGS:
            base = listing.path + (f"?{listing.query}" if listing.query else "")
            pages = -(-len(self.in_listing(listing)) // PAGE_SIZE)
            lists += [base] + [f"{base}{'&' if listing.query else '?'}page={n}"
                               for n in range(1, pages)]  # fmt: skip
        return {
            "document": [d.path for d in self.documents if not d.book],
            "book": [d.path for d in self.documents if d.book],
            "file": sorted(self.files),
            "scanned": [SCANNED],
            "list": lists,
        }

    # -- pages ----------------------------------------------------------------------------
    def home(self) -> Page:
        # A few documents only: the others are found by paging the lists.
        items = "".join(
            f'<li><a href="{d.path}">{esc(d.title)}</a></li>'
            for d in self.documents
            if d.listing in (CONGRESS, EVENTS)
        )
        main = f'<div class="tl-main"><h2>Văn kiện mới</h2><ul class="tl-new">{items}</ul></div>'
        return _page("Trang chủ", main)

    def listing(self, listing: Listing, number: int) -> Page:
        docs = self.in_listing(listing)[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
        items = "".join(
            f'<div class="tl-row"><a class="tl-link" href="{d.path}">{esc(d.title)}</a></div>'
            for d in docs
        )  # past the end: an empty list, as the portal answers
        main = f'<div class="tl-main"><h2>{esc(listing.name)}</h2>{items}</div>'
        return _page(listing.name, main)

    def book_list(self) -> Page:
        items = "".join(
            f'<div class="shelf-item"><a class="cover" href="{d.path}"><img src="/images/book-'
            f'{d.id}.png" alt=""></a><a href="{d.path}">{esc(d.title)}</a></div>'
            for d in self.documents
            if d.book
        )
        return _page("Sách", f'<div class="tl-main"><h2>Sách chính trị</h2>{items}</div>')

    def document(self, d: Document) -> Page:
        crumbs = (
            '<div class="tl-trail"><a href="/">Trang chủ</a> / '
            f'<a href="{d.listing.path}">{esc(d.listing.name)}</a></div>'
        )
        fields = ""
        if d.fields and d.fields_as == "table":
            rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in d.fields)
            fields = f'<table class="tl-props">{rows}</table>'
        elif d.fields:
            rows = "".join(f"<dt>{esc(k)}:</dt><dd>{esc(v)}</dd>" for k, v in d.fields)
            fields = f'<dl class="tl-props">{rows}</dl>'
        lead = f'<div class="tl-abstract"><p>{esc(d.lead)}</p></div>' if d.lead else ""
        body = "".join(f"<p>{esc(p)}</p>" for p in d.body)
        files = ""
        if d.file:
            label = "Tải sách (PDF)" if d.book else "Tải về"
            files = f'<div class="tl-get"><a href="{d.file}">{label}</a></div>'
        main = (
            f'<div class="tl-main tl-doc">{crumbs}<h1 class="tl-name">{esc(d.title)}</h1>'
            f'{fields}{lead}<div class="tl-text">{body}</div>{files}</div>'
        )
        return _page(d.title, main)
