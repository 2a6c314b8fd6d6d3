"""Page requisites: style sheets, scripts, and small but valid JPEG/PNG/GIF images.

Image bytes depend only on the image's path, so every fetch of an image gives the same
bytes and two images differ; no imaging library needed.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import datetime

from .page import CSS, JS, Page
from .text import VN_TZ

ASSET_DATE = datetime(2024, 6, 1, 9, 0, tzinfo=VN_TZ)

STYLES = {
    "main": """/* dangcongsan.vn replica: common layout */
body { font-family: Arial, sans-serif; margin: 0; color: #222; }
.header { background: #b50000 url(../images/bg.gif) repeat-x; padding: 8px; }
.header .logo img { height: 48px; }
.menu ul { list-style: none; margin: 0; padding: 0; display: flex; gap: 12px; }
.container { display: flex; gap: 24px; max-width: 1100px; margin: 0 auto; }
.main { flex: 3; } .sidebar { flex: 1; }
.w-list .list-item { display: flex; gap: 8px; margin: 8px 0; }
.i-date { color: #888; font-size: 12px; }
.footer { background: #eee url("/assets/images/logo.png") no-repeat right; padding: 16px; }
""",
    "gen1": """.detail-post .post-title { font-size: 26px; }
.detail-post .post-summary { font-weight: bold; }
.post-content figure, .post-content table.image { margin: 12px auto; text-align: center; }
.related-news li { margin: 4px 0; }
""",
    "gen2": """.article__title { font-size: 28px; } .article__sapo { font-weight: bold; }
.article__body figure { margin: 12px 0; } .box-related { border-left: 3px solid #b50000; }
""",
    "gen3": """.detail__title { font-size: 30px; } .detail__sapo { font-weight: 600; }
.detail__content figure { margin: 16px 0; } .detail__related { background: #f6f6f6; }
""",
}

SCRIPTS = {
    "main": """(function () {
  var menu = document.querySelector('.menu');
  if (menu) { menu.classList.add('ready'); }
})();
""",
    "lazyload": """(function () {
  document.querySelectorAll('img[data-src]').forEach(function (img) {
    img.src = img.getAttribute('data-src');
  });
})();
""",
}

# Images of the site itself (not on the CDN), referenced by pages and style sheets.
SITE_IMAGES = ("/assets/images/logo.png", "/assets/images/bg.gif", "/assets/images/banner.gif")


def asset(path: str) -> Page | None:
    """`/assets/css/<name>.css`, `/assets/js/<name>.js`, `/assets/images/...`."""
    for prefix, table, ctype, ext in (
        ("/assets/css/", STYLES, CSS, ".css"),
        ("/assets/js/", SCRIPTS, JS, ".js"),
    ):
        if path.startswith(prefix) and path.endswith(ext):
            content = table.get(path[len(prefix) : -len(ext)])
            if content is None:
                return None
            return Page(200, ctype, content.encode(), "asset", ASSET_DATE)
    if path in SITE_IMAGES:
        return image(path, ASSET_DATE)
    return None


def asset_paths() -> list[str]:
    return [f"/assets/css/{n}.css" for n in STYLES] + [f"/assets/js/{n}.js" for n in SCRIPTS]


# -- images -------------------------------------------------------------------------------


def image(path: str, when: datetime) -> Page | None:
    """The bytes of the image at `path` (query ignored: ?w=780 is a resize hint). They come
    from the file's name: a photo uploaded twice (two folders) is the same photo."""
    digest = hashlib.sha1(path.rsplit("/", 1)[-1].encode()).digest()
    ext = path.rsplit(".", 1)[-1].lower()
    if ext in ("jpg", "jpeg"):
        # A photo carries its credits and rights (IPTC/EXIF on the real site): about 1 KB.
        credits = b"Anh: dangcongsan.vn (replica). " + digest.hex().encode() + b"\n"
        return Page(
            200, "image/jpeg", jpeg(digest[0], credits * 14), "image", when, compressible=False
        )
    if ext == "png":
        return Page(200, "image/png", png(digest[:3]), "image", when, compressible=False)
    if ext == "gif":
        return Page(200, "image/gif", gif(digest[:3]), "image", when, compressible=False)
    return None


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


# Standard DC luminance Huffman codes by size category (ITU T.81, table K.3).
_DC_CODES = ("00", "010", "011", "100", "101", "110", "1110", "11110", "111110",
             "1111110", "11111110", "111111110")  # fmt: skip


def jpeg(gray: int, comment: bytes) -> bytes:
    """A baseline 8x8 grey JPEG: one block with only a DC coefficient; a comment makes it unique."""
    dc = 8 * (gray - 128)  # DC of a flat block after level shift, quantiser 1
    size = abs(dc).bit_length()
    bits = _DC_CODES[size]
    if size:
        bits += format(dc if dc > 0 else dc + (1 << size) - 1, f"0{size}b")
    bits += "0"  # AC: end of block (the only AC code)
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)).replace(
        b"\xff", b"\xff\x00"
    )
    return b"".join(
        [
            b"\xff\xd8",
            _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            _segment(0xFE, comment),
            _segment(0xDB, b"\x00" + bytes([1] * 64)),
            _segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),
            _segment(
                0xC4, b"\x00" + bytes([0, 1, 5, 1, 1, 1, 1, 1, 1] + [0] * 7) + bytes(range(12))
            ),
            _segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
            _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            scan,
            b"\xff\xd9",
        ]
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(rgb: bytes) -> bytes:
    """A 4x4 PNG of one colour."""
    raw = b"".join(b"\x00" + rgb * 4 for _ in range(4))
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)),
            _chunk(b"IDAT", zlib.compress(raw, 9)),
            _chunk(b"IEND", b""),
        ]
    )


def gif(rgb: bytes) -> bytes:
    """A 1x1 GIF of one colour."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00"
        + rgb
        + b"\xff\xff\xff"
        + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b"
    )


def video(path: str, when: datetime) -> Page:
    """A stub MP4 (an ftyp box and a free box naming the path): enough for a requisite fetch."""
    name = path.encode()
    data = struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isomiso2"
    data += struct.pack(">I", 8 + len(name)) + b"free" + name
    return Page(200, "video/mp4", data, "media", when, compressible=False)
