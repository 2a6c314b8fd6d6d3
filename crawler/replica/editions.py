"""The editions in other languages (en., fr., cn.), as the replica serves them.

The same newspaper in English, French and Chinese: a home page, a list per section, and
articles at `/<section>/<slug>-<id>.html`. Most articles link the Vietnamese article they
translate (a link to the main site; the French ones write its URL out, unlinked); one of
each edition does not. The lead has no
"(ĐCSVN)" mark and no class a lead word names: it is the sentence standing between the date
line and the text. The markup is the replica's invention, named nowhere in
crawler/extract/markup.py, so the crawler reads it by structure alone.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, timedelta
from email.utils import format_datetime
from urllib.parse import unquote
from xml.sax.saxutils import escape

from . import assets
from .chrome import esc
from .model import START_NOW, ReplicaArticle
from .page import HTML, RSS, TEXT, Page


@dataclass(frozen=True)
class Edition:
    name: str  # the profile's name: en, fr, cn
    host: str
    lang: str  # the <html lang>
    home: str
    section: tuple[str, str]  # (path, name)
    original: str  # "the Vietnamese original", in the edition's language
    first_id: int
    stories: tuple[tuple[str, str, tuple[str, ...]], ...]  # (title, lead, paragraphs)
    closing: tuple[str, ...] = ()  # paragraphs every story ends with: stories are long


def _story(title: str, lead: str, *body: str) -> tuple[str, str, tuple[str, ...]]:
    return (title, lead, body)


EDITIONS = {
    "en": Edition("en", "en.dangcongsan.vn", "en", "Home", ("/politics", "Politics"),
                  "Vietnamese version", 800001, (
        _story("Party leader meets voters in Hanoi ahead of the new term",
               "The General Secretary met voters of Hanoi on Saturday to hear their opinions on "
               "the work of the National Assembly and the Party's tasks for the coming term.",
               "Voters raised questions about housing, transport and the cost of living in the "
               "capital, and asked for faster administrative reform.",
               "The leader thanked the voters and said their views would be carried to the "
               "coming session of the National Assembly."),
        _story("Government reviews progress of public investment disbursement",
               "The Prime Minister chaired a meeting on Monday to review the disbursement of "
               "public investment capital in the first ten months of the year.",
               "Ministries and localities were asked to remove obstacles in site clearance and "
               "to speed up key infrastructure projects across the country.",
               "Provinces that disburse slowly will have their capital moved to projects that "
               "can use it before the end of the year."),
        _story("Vietnam and partners sign cooperation agreements on digital economy",
               "Vietnam signed several agreements with international partners on Tuesday to "
               "expand cooperation in the digital economy and innovation.",
               "The agreements cover data centres, training of engineers and support for small "
               "businesses adopting digital tools in their daily work.",
               "Officials said the cooperation would help the country reach its goals for the "
               "digital economy set for the year 2030."),
    ), (
        "The meeting was attended by leaders of ministries, central agencies and provinces, "
        "who reported on the results achieved and the difficulties that remain.",
        "Concluding the meeting, the leader asked all levels to act decisively, to coordinate "
        "closely and to report the results of their work before the end of the year.",
        "Earlier, the delegates had visited local establishments and talked with officials "
        "and residents about their living conditions and their expectations for the future.",
    )),
    "fr": Edition("fr", "fr.dangcongsan.vn", "fr", "Accueil", ("/politique", "Politique"),
                  "Version vietnamienne", 810001, (
        _story("Le secrétaire général rencontre les électeurs de Hanoï",
               "Le secrétaire général a rencontré samedi les électeurs de Hanoï pour entendre "
               "leurs avis sur le travail de l'Assemblée nationale et les tâches du Parti.",
               "Les électeurs ont soulevé des questions sur le logement, les transports et le "
               "coût de la vie dans la capitale, et ont demandé une réforme plus rapide.",
               "Le dirigeant a remercié les électeurs et a affirmé que leurs avis seraient "
               "transmis à la prochaine session de l'Assemblée nationale."),
        _story("Le gouvernement examine le décaissement des investissements publics",
               "Le Premier ministre a présidé lundi une réunion consacrée au décaissement des "
               "capitaux d'investissement public au cours des dix premiers mois de l'année.",
               "Les ministères et les localités ont été invités à lever les obstacles liés au "
               "dégagement des sites et à accélérer les grands projets d'infrastructure.",
               "Les provinces qui décaissent lentement verront leurs capitaux transférés vers "
               "des projets capables de les utiliser avant la fin de l'année."),
    ), (
        "La réunion a réuni les dirigeants des ministères, des organes centraux et des "
        "provinces, qui ont rendu compte des résultats obtenus et des difficultés restantes.",
        "En conclusion, le dirigeant a demandé à tous les échelons d'agir avec détermination, "
        "de coordonner étroitement leur action et de rendre compte avant la fin de l'année.",
        "Auparavant, les délégués avaient visité des établissements locaux et échangé avec "
        "les responsables et les habitants sur leurs conditions de vie et leurs attentes.",
    )),
    "cn": Edition("cn", "cn.dangcongsan.vn", "zh-Hans", "首页", ("/zheng-zhi", "政治"),
                  "越南文原文", 820001, (
        _story("越共中央总书记在河内会见选民",
               "越共中央总书记周六在河内会见选民，听取他们对国会工作和党在新任期内各项任务的意见和建议。",
               "选民们就首都的住房、交通和生活成本等问题提出了意见，并要求加快行政改革的步伐，提高服务质量。",
               "总书记感谢选民们的意见，并表示将把这些意见转达给即将召开的国会会议，认真研究并加以解决。"),
        _story("政府审查公共投资资金拨付进度",
               "政府总理周一主持会议，审查今年前十个月公共投资资金的拨付情况，并就下一阶段工作作出部署。",
               "各部委和地方被要求消除征地拆迁中的障碍，加快全国各地重点基础设施项目的建设进度和质量。",
               "拨付缓慢的省份，其资金将被转移到能够在年底前使用资金的项目，以确保全年目标的顺利完成。"),
    ), (
        "出席会议的有各部委、中央机关和各省市的领导同志，他们汇报了已取得的成果和仍然存在的困难与问题。",
        "会议最后，领导同志要求各级果断行动、密切配合，并在年底前报告工作成果，确保各项任务如期完成。",
        "此前，代表们参观了当地的一些单位，并同干部和居民就生活条件以及对未来的期望进行了亲切交谈。",
    )),
}  # fmt: skip


class ReplicaEdition:
    """One edition: pure, like ReplicaSite. ``originals`` are the main site's articles the
    edition's stories translate (the last story of each edition names none)."""

    def __init__(self, edition: Edition, originals: list[ReplicaArticle]) -> None:
        self.edition = edition
        section, _ = edition.section
        self.stories = []
        for n, (title, lead, body) in enumerate(edition.stories):
            number = edition.first_id + n
            slug = f"xinwen-{n + 1}" if edition.name == "cn" else _slug(title)  # 新闻
            original = originals[n] if n < len(edition.stories) - 1 and n < len(originals) else None
            when = START_NOW - timedelta(days=n, hours=3 * n)
            path = f"{section}/{slug}-{number}.html"
            self.stories.append((path, title, lead, body + edition.closing, original, when))
        self.by_path = {s[0]: s for s in self.stories}
        self.photos = {_photo(s[0]): n for n, s in enumerate(self.stories)}

    def urls(self) -> dict[str, list[str]]:
        stories = [s[0] for s in self.stories]
        lists = [self.edition.section[0]]
        return {"article": stories, "list": lists, "feed": ["/rss"], "image": sorted(self.photos)}

    def page(self, target: str) -> Page | None:
        path = unquote(target.partition("?")[0])
        if path == "/robots.txt":
            return Page(200, TEXT, b"User-agent: *\nDisallow:\n", "robots", START_NOW,
                        compressible=False)  # fmt: skip
        if path == "/rss":
            return self._rss()
        if path in ("/", self.edition.section[0]):
            items = "".join(
                f'<li class="teaser"><a href="{s[0]}">{esc(s[1])}</a></li>' for s in self.stories
            )
            return self._page(self.edition.home, f'<ul class="teasers">{items}</ul>')
        if path in self.photos:  # the edition's own images, under /DATA/3/ as on en.
            rgb = bytes((40 * self.photos[path] % 256, 120, 200))
            return Page(200, "image/png", assets.png(rgb), "image", START_NOW, compressible=False)
        story = self.by_path.get(path)
        return self._story(*story) if story else None

    def _rss(self) -> Page:
        """The edition's feed: every story, newest first, with its date (no sitemap: 404)."""
        e = self.edition
        items = "".join(
            f"<item><title>{escape(title)}</title><link>https://{e.host}{path}</link>"
            f"<pubDate>{format_datetime(when.astimezone(UTC), usegmt=True)}</pubDate></item>\n"
            for path, title, _lead, _body, _original, when in self.stories
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n'
            f"<title>{escape(e.home)}</title><link>https://{e.host}/</link>"
            f"<language>{e.lang}</language>\n{items}</channel></rss>\n"
        )
        return Page(200, RSS, body.encode("utf-8"), "feed", START_NOW)

    def _page(self, title: str, main: str) -> Page:
        e = self.edition
        body = (
            f'<!DOCTYPE html>\n<html lang="{e.lang}"><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title></head>\n<body>\n"
            f'<div class="masthead"><a href="/">{esc(e.home)}</a> '
            f'<a href="{e.section[0]}">{esc(e.section[1])}</a> '
            '<a href="https://dangcongsan.vn/">Tiếng Việt</a></div>\n'
            f'<div class="frame">{main}</div>\n'
            '<div class="colophon"><p>Communist Party of Vietnam Online Newspaper</p></div>\n'
            "</body></html>\n"
        )
        return Page(200, HTML, body.encode("utf-8"), "article", START_NOW)

    def _story(self, path, title, lead, body, original, when) -> Page:
        e = self.edition
        origin = ""
        if original is not None and e.name == "fr":  # named in words, not linked
            origin = f'<div class="origin-link">{esc(e.original)} : {original.url}</div>'
        elif original is not None:
            origin = (
                f'<div class="origin-link">{esc(e.original)}: '
                f'<a href="{original.url}">{esc(original.title)}</a></div>'
            )
        paragraphs = "".join(f"<p>{esc(p)}</p>" for p in body)
        main = (
            f'<div class="story-box"><div class="trail"><a href="/">{esc(e.home)}</a> › '
            f'<a href="{e.section[0]}">{esc(e.section[1])}</a></div>'
            f'<h1 class="story-heading">{esc(title)}</h1>'
            f'<div class="story-when">{when:%d/%m/%Y %H:%M}</div>'
            f'<p class="standfirst">{esc(lead)}</p>'
            f'<div class="story-pic"><img src="{_photo(path)}" alt=""></div>'
            f'<div class="story-copy">{paragraphs}</div>{origin}</div>'
        )
        return self._page(title, main)


def _photo(path: str) -> str:
    """A story's picture: /DATA/3/YYYY/MM/<its number>.png (the editions' image folders)."""
    return f"/DATA/3/2026/11/{path.rsplit('-', 1)[-1].removesuffix('.html')}.png"


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title.lower()).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_title).split())
