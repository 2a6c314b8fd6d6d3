"""The replica's content: categories, articles of the three generations, the clock.

Everything comes from one `random.Random` per purpose, seeded from the site seed, so the
same seed gives the same site byte for byte. Nothing here renders markup.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote, unquote, urljoin

from . import text
from .text import VN_TZ

LIVE = "https://dangcongsan.vn"
FILE_CDN = "https://file1.dangcongsan.vn"
MEDIA_CDN = "https://media.dangcongsan.vn"
# The replica's clock starts here; advance() moves it.
START_NOW = datetime(2026, 11, 20, 8, 0, tzinfo=VN_TZ)
GEN_RANGES = {
    1: (datetime(2015, 1, 1, tzinfo=VN_TZ), datetime(2024, 12, 31, 23, 0, tzinfo=VN_TZ)),
    2: (datetime(2019, 1, 1, tzinfo=VN_TZ), datetime(2024, 12, 31, 23, 0, tzinfo=VN_TZ)),
}
GEN3_START = datetime(2025, 1, 1, 6, 0, tzinfo=VN_TZ)
# A parent category id that gen-3 links sometimes append: categoryId=1902448,1902440
PARENT_CATEGORY_ID = 1902440
# Tries at a headline from one sentence before adding words of a second one: a replica of
# thousands of articles runs out of one-sentence headlines (smaller ones never get there,
# so they stay as they were).
ONE_SENTENCE_TRIES = 20
SEED_ID = "531379"
# How the site takes a story down: its URL answers 404 or 410, or redirects to the home page
# or to the story's category list.
TAKEDOWNS = ("404", "410", "home", "list")


@dataclass(frozen=True)
class Category:
    slug: str  # path of its list: /<slug> and /<slug>.html
    name: str
    rss_id: int  # /so-do-website/rss/<rss_id>
    category_id: int  # gen-3 ?categoryId=
    past_end: str  # what ?page=N past the end gives: "empty" or "repeat" (page 1)


CATEGORIES = (
    Category("thoi-su", "Thời sự", 1, 1902448, "empty"),
    Category("xay-dung-dang", "Xây dựng Đảng", 2, 1902449, "repeat"),
    Category("kinh-te", "Kinh tế", 3, 1902450, "empty"),
    Category("van-hoa", "Văn hóa", 4, 1902451, "repeat"),
    Category("xa-hoi", "Xã hội", 5, 1902452, "empty"),
    Category("quoc-te", "Quốc tế", 6, 1902453, "repeat"),
    Category("phap-luat", "Pháp luật", 7, 1902454, "empty"),
    Category("multimedia/video", "Video", 8, 1902460, "repeat"),
)
NEWS = CATEGORIES[:-1]
VIDEO = CATEGORIES[-1]
CATEGORY_BY_SLUG = {c.slug: c for c in CATEGORIES}


@dataclass
class Figure:
    """An image of an article: its live URL (on the CDN) and its caption."""

    url: str
    caption: str

    @property
    def path(self) -> str:
        """Path (and query) to fetch it from the replica."""
        return self.url[len(FILE_CDN) :]


@dataclass
class Markup:
    """How an article's page is dirty: the rendering choices, fixed when it is created."""

    body_style: str = "p"  # gen 1: p | div | br (one <p> with <br>) | mixed
    nfd: bool = False  # gen 1: body stored decomposed
    nbsp: bool = False  # some spaces written as &nbsp;
    empty_paragraph: bool = False  # a <p>&nbsp;</p>
    strong: bool = False  # a phrase in <strong> inside a paragraph
    readmore: str | None = None  # key of a "Xem thêm" target inside the body
    ad: bool = False  # an ad block inside the body
    author_style: str = "class"  # gen 1 byline: class (p.author) | right (p[style] strong)
    related_position: str = "top"  # where the related box sits in/near the body
    figure_style: str = "figure"  # gen 1: figure | table (table.image)
    lazy: bool = False  # images with data-src and a data: placeholder
    cut_og_title: bool = False  # gen 3: og:title cut short with "..."
    dead_link: bool = False  # a dead link in the sidebar


@dataclass
class RelatedLink:
    title: str  # link text (the target's title)
    target: str  # key of the target article
    href: str  # as written in the page (relative, www., old URL that redirects, ...)


@dataclass
class ReplicaArticle:
    """One story of the replica and its ground truth."""

    key: str  # internal, stable: the numeric id (gen 3: in article.detail[data-id])
    generation: int
    id: str  # gen 1/2: the numeric id of the URL; gen 3: path_id() of its canonical path
    title: str
    lead: str
    paragraphs: list[str]
    published: datetime
    modified: datetime
    section: Category
    tags: list[str]
    byline: str  # as shown; PV/BTV/ĐCSVN are placeholders
    figures: list[Figure]
    slug: str
    path: str  # percent-encoded path (+ ?categoryId= for gen 3) to fetch it
    old_paths: list[str] = field(default_factory=list)
    related_links: list[RelatedLink] = field(default_factory=list)
    markup: Markup = field(default_factory=Markup)
    is_video: bool = False
    video_url: str | None = None
    edits: int = 0  # how many times advance() edited it
    removed: str | None = None  # taken down: how it answers now (one of TAKEDOWNS)
    removed_at: datetime | None = None  # by the server's clock

    @property
    def url(self) -> str:
        """Canonical live URL (gen 3 without the query)."""
        return LIVE + self.path.split("?", 1)[0]

    @property
    def category(self) -> str:
        return self.section.name

    @property
    def author(self) -> str | None:
        return None if self.byline in text.PLACEHOLDER_BYLINES else self.byline

    @property
    def images(self) -> list[str]:
        return [f.url for f in self.figures]

    @property
    def related(self) -> list[tuple[str, str]]:
        """(link text, absolute live URL as linked) in page order."""
        return [(r.title, urljoin(self.url, r.href)) for r in self.related_links]

    @property
    def expected_text(self) -> str:
        lines = [self.title, self.lead]
        if not self.is_video:
            lines += ["- " + r.title for r in self.related_links]
            lines += self.paragraphs
        return "\n".join(text.fold(line) for line in lines if text.fold(line))


# -- generation ------------------------------------------------------------------------


def path_id(path: str) -> str:
    """The id of an article whose URL has no number (gen 3): "p" + a hash of its path.

    The same rule as the extractor's (crawler.extract), so the text file names agree.
    """
    path = unicodedata.normalize("NFC", unquote(path.split("?", 1)[0]))
    return "p" + hashlib.sha1(path.encode("utf-8")).hexdigest()[:12]


def _quote_path(path: str) -> str:
    return quote(path, safe="/?=,&-.")


def _id_for(when: datetime, rng: random.Random, used: set[str]) -> str:
    """Ids grow with time, one id space for every generation (old ids redirect to new URLs)."""
    base = 300_000 + (when - GEN_RANGES[1][0]).days * 100
    while True:
        candidate = str(base + rng.randrange(100))
        if candidate not in used:
            used.add(candidate)
            return candidate
        base += 1


def _random_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    minutes = int((end - start).total_seconds() // 60)
    return start + timedelta(minutes=rng.randrange(max(minutes, 1)))


class Generator:
    """Makes titles, bodies and whole articles from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sentences = text.sentences()
        self.slugs: set[str] = set()
        self.ids: set[str] = set()

    def title(self, generation: int) -> str:
        """A headline cut from a seed sentence at a clause boundary, sometimes with a dash/colon."""
        rng = self.rng
        for tries in itertools.count(1):
            sentence = rng.choice(self.sentences).replace("“", "").replace("”", "")
            clauses = sentence.split(", ")
            words = ", ".join(clauses[rng.randrange(len(clauses)) :]).split()
            words = words[: rng.randint(6, 13)]
            if tries > ONE_SENTENCE_TRIES:
                words += rng.choice(self.sentences).split()[: rng.randint(2, 6)]
            words = [w.strip(".;:…()“”") for w in words]
            words = [w for w in words if w]
            if len(words) < 5:
                continue
            words[-1] = words[-1].rstrip(",")
            roll = rng.random()
            cut = rng.randint(2, 3)
            if roll < 0.12:
                title = f"{text.headline(words[:cut])} - {text.headline(words[cut:])}"
            elif roll < 0.2:
                title = f"{text.headline(words[:cut])}: {text.headline(words[cut:])}"
            elif roll < 0.28 and generation == 1:
                title = f"{text.headline(words[:cut])} – {text.headline(words[cut:])}"
            else:
                title = text.headline(words)
            slug = text.slugify(title)
            # A headline ending in digits would read as a gen-1 id; keep slugs unambiguous.
            if slug in self.slugs or slug[-1:].isdigit() or "-post" in slug:
                continue
            self.slugs.add(slug)
            return title

    def story(self, paragraphs: int) -> tuple[str, list[str]]:
        """A lead and body paragraphs; no sentence twice in one story (real stories don't)."""
        pool = list(self.sentences)
        self.rng.shuffle(pool)
        lead_size = self.rng.randint(1, 2)
        lead, pool = text.LEAD_PREFIX + " ".join(pool[:lead_size]), pool[lead_size:]
        body = []
        for _ in range(paragraphs):
            size = min(self.rng.randint(1, 4), len(pool))
            if not size:
                break
            body.append(" ".join(pool[:size]))
            pool = pool[size:]
        return lead, body

    def markup(self, generation: int) -> Markup:
        rng = self.rng
        m = Markup()
        m.nbsp = rng.random() < 0.3
        m.strong = rng.random() < 0.4
        m.ad = rng.random() < 0.3
        m.dead_link = rng.random() < 0.15
        if generation == 1:
            m.body_style = rng.choice(["p", "p", "div", "br", "mixed"])
            m.nfd = rng.random() < 0.2
            m.empty_paragraph = rng.random() < 0.3
            m.author_style = rng.choice(["class", "right"])
            m.related_position = rng.choice(["before", "inside"])
            m.figure_style = rng.choice(["figure", "table"])
        elif generation == 2:
            m.lazy = True
            m.related_position = rng.choice(["top", "middle", "end"])
        else:
            m.lazy = rng.random() < 0.5
            m.cut_og_title = rng.random() < 0.3
        return m

    def figures(self, when: datetime, key: str, count: int) -> list[Figure]:
        rng = self.rng
        out = []
        for n in range(count):
            ext = rng.choice(["jpg", "jpg", "jpg", "png", "gif"])
            if when.year < 2019:
                url = f"{FILE_CDN}/DATA/0/{when:%Y/%m}/anh_{key}_{n}.{ext}"
            else:
                user = rng.choice(["thuhang", "minhanh", "btv_dcs", "upload"])
                url = f"{FILE_CDN}/data/0/images/{when:%Y/%m/%d}/{user}/{key}-{n}.{ext}?w=780"
            out.append(Figure(url, rng.choice(text.CAPTIONS)))
        return out

    def article(
        self,
        generation: int,
        published: datetime,
        now: datetime,
        section: Category | None = None,
        title: str | None = None,
        is_video: bool = False,
    ) -> ReplicaArticle:
        rng = self.rng
        title = title or self.title(generation)
        slug = text.slugify(title)
        self.slugs.add(slug)
        section = section or rng.choice(NEWS)
        key = _id_for(published, rng, self.ids)
        if generation == 1:
            path = f"/{section.slug}/{slug}-{key}.html"
        elif generation == 2:
            path = f"/{slug}-post{key}.html"
        else:
            ids = str(section.category_id)
            if rng.random() < 0.3:
                ids += f",{PARENT_CATEGORY_ID}"
            path = f"/{section.slug}/{slug}.html?categoryId={ids}"
        late = timedelta(minutes=rng.choice([0, 0, 5, 40, 180, 2000, 6000]))
        modified = min(published + late, now)
        byline = rng.choice(text.AUTHORS + text.PLACEHOLDER_BYLINES)
        tags = rng.sample(text.TAGS, rng.randint(1, 4))
        figures = self.figures(published, key, 1 if is_video else rng.randint(0, 3))
        lead, body = self.story(rng.randint(3, 12))
        a = ReplicaArticle(
            key=key,
            generation=generation,
            id=key,
            title=title,
            lead=lead,
            paragraphs=[] if is_video else body,
            published=published,
            modified=modified,
            section=section,
            tags=tags,
            byline=byline,
            figures=figures,
            slug=slug,
            path=_quote_path(path),
            markup=self.markup(generation),
            is_video=is_video,
        )
        if generation == 3:
            a.id = path_id(a.path)
        if is_video:
            a.video_url = f"{MEDIA_CDN}/video/{published:%Y/%m}/{key}.mp4"
        return a

    def relate(
        self,
        a: ReplicaArticle,
        pool: list[ReplicaArticle],
        count: int,
        earlier: list[ReplicaArticle] | None = None,
    ) -> None:
        """Related links and "read more" to earlier stories, in varied link forms.

        ``earlier``: the stories of the pool published before ``a`` other than videos, in
        pool order, when the caller has them at hand (else they are looked up)."""
        rng = self.rng
        if earlier is None:
            earlier = [b for b in pool if b.published < a.published and not b.is_video]
        for target in rng.sample(earlier, min(count, len(earlier))):
            a.related_links.append(RelatedLink(target.title, target.key, self.href_to(target)))
        if a.markup.readmore == "" and earlier:
            a.markup.readmore = rng.choice(earlier).key
        elif a.markup.readmore == "":
            a.markup.readmore = None

    def href_to(self, target: ReplicaArticle) -> str:
        """A link to an article as older pages write it: old URL (301), host forms."""
        rng = self.rng
        path = target.path
        if target.old_paths and rng.random() < 0.6:
            path = rng.choice(target.old_paths)
        roll = rng.random()
        if roll < 0.45:
            return path
        if roll < 0.7:
            return LIVE + path
        if roll < 0.85:
            return "http://www.dangcongsan.vn" + path
        return "http://dangcongsan.vn" + path

    def edit(self, a: ReplicaArticle, now: datetime) -> None:
        """An editor's correction: one paragraph rewritten, modified time moves."""
        used = a.lead + " " + " ".join(a.paragraphs)
        fresh = [s for s in self.sentences if s not in used] or list(self.sentences)
        index = self.rng.randrange(len(a.paragraphs))
        sentence = self.rng.choice(fresh)
        a.paragraphs[index] = f"{sentence} (Cập nhật lần {a.edits + 1})"
        a.edits += 1
        a.modified = now


def seed_articles(gen: Generator) -> list[ReplicaArticle]:
    """The seed article and its two related stories, as fixed as the seed text."""
    seed = text.seed_text()
    now = START_NOW
    gen.ids.add(SEED_ID)
    hanam = gen.article(
        2,
        datetime(2019, 7, 13, 10, 5, tzinfo=VN_TZ),
        now,
        CATEGORY_BY_SLUG["thoi-su"],
        title=seed.related_titles[0],
    )
    vinhphuc = gen.article(
        1,
        datetime(2019, 6, 21, 16, 40, tzinfo=VN_TZ),
        now,
        CATEGORY_BY_SLUG["thoi-su"],
        title=seed.related_titles[1],
    )
    slug = text.slugify(seed.title)
    gen.slugs.add(slug)
    a = ReplicaArticle(
        key=SEED_ID,
        generation=2,
        id=SEED_ID,
        title=seed.title,
        lead=seed.lead,
        paragraphs=list(seed.paragraphs),
        published=datetime(2019, 8, 10, 15, 21, tzinfo=VN_TZ),
        modified=datetime(2019, 8, 10, 16, 2, tzinfo=VN_TZ),
        section=CATEGORY_BY_SLUG["thoi-su"],
        tags=["Hà Nội", "Quảng Ninh", "hợp tác phát triển"],
        byline="PV",
        figures=[
            Figure(
                f"{FILE_CDN}/data/0/images/2019/08/10/thuhang/hn-qn-1.jpg?w=780", text.CAPTIONS[0]
            ),
            Figure(
                f"{FILE_CDN}/data/0/images/2019/08/10/thuhang/hn-qn-2.jpg?w=780", text.CAPTIONS[2]
            ),
        ],
        slug=slug,
        path=_quote_path(f"/{slug}-post{SEED_ID}.html"),
        old_paths=[_quote_path(f"/thoi-su/{slug}-{SEED_ID}.html")],
        markup=Markup(lazy=True, related_position="middle", readmore=None),
    )
    # The same photo uploaded again for another story: another URL, the same bytes (the
    # site's CDN keeps a copy per upload), as an archive that dedups by content meets it.
    hanam.figures.append(
        Figure(f"{FILE_CDN}/data/0/images/2019/07/13/upload/hn-qn-1.jpg?w=780", text.CAPTIONS[3])
    )
    a.related_links = [
        RelatedLink(hanam.title, hanam.key, LIVE + hanam.path),
        RelatedLink(vinhphuc.title, vinhphuc.key, LIVE + vinhphuc.path),
    ]
    return [a, hanam, vinhphuc]


def build(seed: int, per_generation: int, now: datetime = START_NOW) -> list[ReplicaArticle]:
    """The whole corpus at the start of the clock, oldest first."""
    gen = Generator(random.Random(f"dcs-replica:{seed}:corpus"))
    fixed = seed_articles(gen)
    counts = {g: per_generation - sum(a.generation == g for a in fixed) for g in (1, 2, 3)}
    articles = list(fixed)
    for generation in (1, 2, 3):
        start, end = GEN_RANGES.get(generation, (GEN3_START, now - timedelta(hours=1)))
        for _ in range(max(counts[generation], 0)):
            articles.append(gen.article(generation, _random_time(gen.rng, start, end), now))
    start, end = GEN_RANGES[1]
    for _ in range(max(3, per_generation // 15)):
        when = _random_time(gen.rng, start, end)
        articles.append(gen.article(1, when, now, VIDEO, is_video=True))
    articles.sort(key=lambda a: (a.published, a.key))
    _migrate(gen, articles)
    earlier: list[ReplicaArticle] = []  # sorted: the stories before `a` are a prefix
    before = iter(articles)
    upcoming = next(before, None)
    for a in articles:
        while upcoming is not None and upcoming.published < a.published:
            if not upcoming.is_video:
                earlier.append(upcoming)
            upcoming = next(before, None)
        if a.key == SEED_ID or a.is_video:
            continue
        if gen.rng.random() < 0.3:
            a.markup.readmore = ""  # decided in relate(), once earlier stories are known
        if not a.related_links:
            gen.relate(a, articles, gen.rng.randint(0, 3), earlier)
    return articles


def _migrate(gen: Generator, articles: list[ReplicaArticle]) -> None:
    """Old URLs: some gen-2 stories were gen-1 URLs, some gen-3 stories were gen-2 URLs."""
    for a in articles:
        if a.is_video or a.key == SEED_ID:
            continue
        if a.generation == 2 and gen.rng.random() < 0.35:
            a.old_paths.append(_quote_path(f"/{a.section.slug}/{a.slug}-{a.key}.html"))
        elif a.generation == 3 and gen.rng.random() < 0.35:
            a.old_paths.append(_quote_path(f"/{a.slug}-post{a.key}.html"))
    for generation in (2, 3):  # at least one of each, whatever the seed
        movable = [a for a in articles if a.generation == generation and a.key != SEED_ID]
        if movable and not any(a.old_paths for a in movable):
            a = movable[0]
            old = f"/{a.section.slug}/{a.slug}-{a.key}.html" if generation == 2 else None
            a.old_paths.append(_quote_path(old or f"/{a.slug}-post{a.key}.html"))


def grow(
    seed: int,
    day: int,
    articles: list[ReplicaArticle],
    now: datetime,
    clock: datetime | None = None,
) -> tuple[list, list, list]:
    """One day of the clock: new gen-3 stories published up to `now`, a few old ones edited,
    now and then one taken down. `clock` is the server's clock, which dates the edits and
    takedowns (`now` unless it is skewed)."""
    clock = clock or now
    gen = Generator(random.Random(f"dcs-replica:{seed}:day:{day}"))
    gen.slugs = {a.slug for a in articles}
    gen.ids = {a.key for a in articles}
    new = []
    for n in range(gen.rng.randint(2, 4)):
        a = gen.article(3, now - timedelta(minutes=23 * n), now)
        a.modified = a.published
        gen.relate(a, articles, gen.rng.randint(0, 3))
        new.append(a)
    editable = [a for a in articles if not a.is_video and a.key != SEED_ID and not a.removed]
    edited = gen.rng.sample(editable, min(2, len(editable)))
    for a in edited:
        gen.edit(a, clock)
    removed = []
    candidates = [a for a in editable if a not in edited]
    if candidates and gen.rng.random() < 0.4:
        a = gen.rng.choice(candidates)
        take_down(a, gen.rng.choice(TAKEDOWNS), clock)
        removed.append(a)
    return new, edited, removed


def take_down(a: ReplicaArticle, how: str, clock: datetime) -> None:
    if how not in TAKEDOWNS:
        raise ValueError(f"a takedown is one of {', '.join(TAKEDOWNS)}, not {how!r}")
    a.removed, a.removed_at = how, clock
