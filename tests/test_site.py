"""URL rules of dangcongsan.vn: kinds, canonical identity, mapping onto a base URL."""

import pytest

from crawler.site import LIVE_BASE_URL, URLS_REMEMBERED, Kind, Site, article_id, generation

MIRROR = "http://127.0.0.1:8123"
D = "https://dangcongsan.vn"


@pytest.mark.parametrize(
    ("url", "kind", "gen", "ident"),
    [
        (f"{D}/thoi-su/toi-pham-tham-nhung-533819.html", Kind.ARTICLE, 1, "533819"),
        (f"{D}/multimedia/infographic/khuyen-cao–bo-y-te-623355.html", Kind.ARTICLE, 1, "623355"),
        (f"{D}/ha-noi--quang-ninh-thuc-day-hop-tac-post531379.html", Kind.ARTICLE, 2, "531379"),
        (f"{D}/xa-hoi/dai-hoi-dang-bo-thanh-cong.html?categoryId=1902448", Kind.ARTICLE, 3, None),
        (f"{D}/thoi-su", Kind.LIST, None, None),
        (f"{D}/thoi-su.html?page=3", Kind.LIST, None, None),
        (f"{D}/tag/ha-noi.html?page=7", Kind.TAG, None, None),
        (f"{D}/sitemap.xml", Kind.SITEMAP, None, None),
        (f"{D}/sitemaps/sitemap-2019-08.xml.gz", Kind.SITEMAP, None, None),
        (f"{D}/rss", Kind.FEED, None, None),
        (f"{D}/so-do-website/rss/12", Kind.FEED, None, None),
        (f"{D}/tim-kiem?q=dang", Kind.SEARCH, None, None),
        (f"{D}/page/search?keyword=dang", Kind.SEARCH, None, None),
        ("https://file1.dangcongsan.vn/DATA/0/2019/08/a.jpg", Kind.ASSET, None, None),
        (f"{D}/assets/css/main.css", Kind.ASSET, None, None),
        ("https://en.dangcongsan.vn/news-533819.html", Kind.OFFSITE, None, None),
        ("https://example.com/", Kind.OFFSITE, None, None),
        (f"{D}/", Kind.HOME, None, None),
    ],
)  # fmt: skip
def test_kinds_generations_and_ids(url, kind, gen, ident):
    site = Site()
    assert site.classify(url) is kind
    assert generation(url) == gen
    assert article_id(url) == ident


def test_one_article_has_one_identity_however_linked():
    site = Site(MIRROR)
    path = "/thoi-su/toi-pham-tham-nhung-533819.html"
    variants = [
        f"https://dangcongsan.vn{path}",
        f"http://dangcongsan.vn{path}",
        f"https://www.dangcongsan.vn{path}?utm_source=facebook&utm_medium=social",
        f"http://www.dangcongsan.vn{path}?fbclid=abc#comments",
        f"{MIRROR}{path}",
    ]
    assert {site.canonical(u) for u in variants} == {f"https://dangcongsan.vn{path}"}
    gen3 = "https://dangcongsan.vn/xa-hoi/dai-hoi-dang-bo-tinh-thanh-cong.html"
    assert site.canonical(gen3 + "?categoryId=1902448,1902450") == gen3


def test_list_identity_keeps_the_page_only():
    site = Site()
    assert site.canonical("http://www.dangcongsan.vn/thoi-su?utm_source=x&page=2&sort=1") == (
        "https://dangcongsan.vn/thoi-su?page=2"
    )


def test_links_are_mapped_onto_a_mirror_and_cleaned():
    site = Site(MIRROR)
    assert site.fetch_url("https://www.dangcongsan.vn/a/b-533819.html?utm_source=x&y=1#top") == (
        f"{MIRROR}/a/b-533819.html?y=1"
    )
    assert (
        site.fetch_url("https://file1.dangcongsan.vn/DATA/0/x.jpg?w=780")
        == f"{MIRROR}/DATA/0/x.jpg?w=780"
    )
    assert site.fetch_url("https://tulieuvankien.dangcongsan.vn/x.html") is None
    assert site.fetch_url("mailto:a@b.c") is None


def test_live_site_keeps_its_cdn_hosts():
    site = Site(LIVE_BASE_URL)
    assert site.fetch_url("http://www.dangcongsan.vn/thoi-su") == "https://dangcongsan.vn/thoi-su"
    assert (
        site.fetch_url("https://file1.dangcongsan.vn/a.jpg") == "https://file1.dangcongsan.vn/a.jpg"
    )


@pytest.mark.parametrize("bad", ["dangcongsan.vn", "ftp://dangcongsan.vn", "http://"])
def test_bad_base_url(bad):
    with pytest.raises(ValueError):
        Site(bad)


def test_a_mirror_is_archived_under_the_live_urls_it_stands_for():
    site = Site(MIRROR)
    page = f"{MIRROR}/thoi-su/a-533819.html?x=1"
    assert site.archive_url(page) == "https://dangcongsan.vn/thoi-su/a-533819.html?x=1"
    image = f"{MIRROR}/DATA/0/2019/08/a.jpg"
    linked = "http://file1.dangcongsan.vn/DATA/0/2019/08/a.jpg"
    assert site.archive_url(image, linked) == "https://file1.dangcongsan.vn/DATA/0/2019/08/a.jpg"
    live = Site()
    assert (
        live.archive_url("https://dangcongsan.vn/a-post1.html#x")
        == "https://dangcongsan.vn/a-post1.html"
    )


def test_rules_for_a_url_met_alone():
    assert Site.of("https://www.dangcongsan.vn/a-post1.html").is_live
    assert Site.of("https://file1.dangcongsan.vn/a.jpg").is_live
    mirror = Site.of(f"{MIRROR}/a-post1.html")
    assert not mirror.is_live and mirror.base_url == MIRROR
    assert Site.of("//en.dangcongsan.vn/a-post1.html").profile.name == "en"
    assert Site.of("en.dangcongsan.vn/a-post1.html").profile.name == "main"


def test_the_rules_of_one_host_are_one_site_that_remembers_recent_urls():
    url = "https://dangcongsan.vn/thoi-su/a-b-c-d-653884.html?utm_source=x"
    site = Site.of(url)
    assert Site.of("https://dangcongsan.vn/") is site
    assert Site.of("https://en.dangcongsan.vn/") is not site
    assert (
        site.canonical(url)
        == site.canonical(url)
        == "https://dangcongsan.vn/thoi-su/a-b-c-d-653884.html"
    )
    assert site.canonical.cache_info().hits >= 1
    for n in range(2 * URLS_REMEMBERED):
        site.classify(f"https://dangcongsan.vn/a-{n}.html")
    assert site.classify.cache_info().currsize == URLS_REMEMBERED  # memory stays flat
