"""Makes the PDFs the replica's documents portal serves (crawler/replica/data/files/).

Run once; the output is committed, so neither the tests nor `dcs demo` need fpdf2 or a font.
Needs `pip install fpdf2` and DejaVu Sans (`fonts-dejavu-core`). Each PDF has a Vietnamese
text layer (the font embedded, subset), except `nghi-quyet-43-ban-chup.pdf`: a scan, pages
that are images only, no text at all.
"""

from __future__ import annotations

import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
OUT = Path(__file__).resolve().parent.parent / "crawler" / "replica" / "data" / "files"

# file name -> pages, each a list of lines
FILES = {
    "cuong-linh-2011.pdf": [
        ["ĐẢNG CỘNG SẢN VIỆT NAM",
         "CƯƠNG LĨNH XÂY DỰNG ĐẤT NƯỚC TRONG THỜI KỲ QUÁ ĐỘ LÊN CHỦ NGHĨA XÃ HỘI",
         "(Bổ sung, phát triển năm 2011)",
         "I. Quá trình cách mạng và những bài học kinh nghiệm",
         "Từ năm 1930 đến nay, Đảng Cộng sản Việt Nam do Chủ tịch Hồ "
         "Chí Minh sáng lập và rèn luyện",
         "đã lãnh đạo nhân dân ta tiến hành cuộc đấu tranh cách mạng lâu dài, gian khổ."],
        ["II. Quá độ lên chủ nghĩa xã hội ở nước ta",
         "Xã hội xã hội chủ nghĩa mà nhân dân ta xây dựng là một xã hội dân giàu, nước mạnh,",
         "dân chủ, công bằng, văn minh; do nhân dân làm chủ.",
         "Thông qua tại Đại hội đại biểu toàn quốc lần thứ XI, ngày 16 tháng 1 năm 2011."],
    ],
    "thong-tu-17-2020-tt-bgddt.pdf": [
        ["BỘ GIÁO DỤC VÀ ĐÀO TẠO", "Số: 17/2020/TT-BGDĐT",
         "Hà Nội, ngày 15 tháng 7 năm 2020", "THÔNG TƯ",
         "Quy định về việc tổ chức dạy học, bồi dưỡng thường xuyên cho giáo viên mầm non."],
        ["Điều 1. Phạm vi điều chỉnh và đối tượng áp dụng",
         "Thông tư này áp dụng đối với các cơ sở giáo dục mầm non "
         "trong hệ thống giáo dục quốc dân."],
        ["Điều 2. Hiệu lực thi hành",
         "Thông tư có hiệu lực kể từ ngày 01 tháng 9 năm 2020. Nơi nhận: như Điều 2; lưu VT."],
    ],
    "ket-luan-102-kl-tw.pdf": [
        ["BAN CHẤP HÀNH TRUNG ƯƠNG", "Số 102-KL/TW", "Hà Nội, ngày 22 tháng 9 năm 2024",
         "KẾT LUẬN của Bộ Chính trị về nâng cao chất lượng sinh hoạt chi bộ"],
        ["Bộ Chính trị yêu cầu các cấp ủy, tổ chức đảng tiếp tục quán triệt, thực hiện nghiêm",
         "các quy định về sinh hoạt chi bộ; thường xuyên đổi mới nội dung, hình thức sinh hoạt."],
    ],
    "van-kien-dai-hoi-tap-1.pdf": [
        ["VĂN KIỆN ĐẠI HỘI ĐẠI BIỂU TOÀN QUỐC THỜI KỲ ĐỔI MỚI", "Tập 1",
         "Nhà xuất bản Chính trị quốc gia Sự thật"],
        ["LỜI NHÀ XUẤT BẢN",
         "Nhằm đáp ứng nhu cầu nghiên cứu, học tập của cán bộ, đảng viên và nhân dân,",
         "Nhà xuất bản xuất bản cuốn sách Văn kiện Đại hội đại biểu toàn quốc thời kỳ đổi mới."],
        ["BÁO CÁO CHÍNH TRỊ CỦA BAN CHẤP HÀNH TRUNG ƯƠNG",
         "Đại hội đại biểu toàn quốc lần thứ VI của Đảng họp từ ngày "
         "15 đến ngày 18 tháng 12 năm 1986."],
    ],
}  # fmt: skip
SCAN = "nghi-quyet-43-ban-chup.pdf"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def text_pdf(pages: list[list[str]]) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(CREATED)  # the same bytes at every run
    pdf.add_font("DejaVu", "", FONT)
    pdf.set_font("DejaVu", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def gray_png(width: int, height: int) -> bytes:
    """A page-like picture: grey lines on white, as a scanner gives it (no text in it)."""
    rows = []
    for y in range(height):
        ink = y % 24 in (10, 11) and 20 < y < height - 20
        row = bytes([0]) + bytes(90 if ink and 16 < x < width - 16 else 250 for x in range(width))
        rows.append(row)
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def scan_pdf(pages: int) -> bytes:
    import io

    pdf = FPDF()
    pdf.set_creation_date(CREATED)
    for _ in range(pages):
        pdf.add_page()
        pdf.image(io.BytesIO(gray_png(210, 297)), x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, pages in FILES.items():
        (OUT / name).write_bytes(text_pdf(pages))
    (OUT / SCAN).write_bytes(scan_pdf(2))
    for path in sorted(OUT.iterdir()):
        print(path.name, path.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
