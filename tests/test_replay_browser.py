"""A real browser (headless Chromium) opens the replayed seed article: text, pictures, styles."""

from __future__ import annotations

from _chromium import Chromium, png_facts

PAGE_STATE = """
(() => {
  const frame = document.querySelector('#replay_iframe');
  const doc = frame && frame.contentDocument;
  if (!doc || doc.readyState !== 'complete' || !doc.querySelector('h1')) return null;
  const images = [...doc.querySelectorAll('.article__body img')];
  if (!images.every(img => img.complete)) return null;
  const firstParagraph = doc.querySelector('.article__body p');
  return {
    topTitle: document.title,
    title: doc.title,
    h1: doc.querySelector('h1').textContent.trim(),
    firstParagraph: firstParagraph ? firstParagraph.textContent.trim() : null,
    images: images.map(img => ({src: img.currentSrc, width: img.naturalWidth})),
    headerColor: getComputedStyle(doc.querySelector('.header')).backgroundColor,
    loaded: frame.contentWindow.performance.getEntriesByType('resource').map(e => e.name),
    location: frame.contentWindow.location.href,
  };
})()
"""


CALENDAR_TEXT = (
    "document.body && document.body.innerText.includes('captures') && document.body.innerText"
)


def test_replayed_seed_article_in_a_browser(chromium, replay_server, small_archive, tmp_path):
    base, _ = replay_server
    url = f"{base}/dcs/{small_archive.seed_timestamp}/{small_archive.seed_url}"

    with Chromium(chromium) as browser:
        browser.open(url)
        state = browser.wait_for(PAGE_STATE, timeout=30)
        shot = browser.screenshot(tmp_path / "seed-article.png")
    print(f"screenshot: {shot}")

    assert state["h1"] == small_archive.seed_title
    assert state["title"].startswith(small_archive.seed_title)
    assert state["firstParagraph"] == small_archive.seed_first_paragraph
    # The page came from the archive (pywb's mp_ frame), and so did its pictures and styles.
    assert state["location"].startswith(f"{base}/dcs/{small_archive.seed_timestamp}mp_/")
    assert len(state["images"]) == len(small_archive.seed_images)
    for image in state["images"]:
        assert image["width"] > 0, f"image not loaded: {image['src']}"
        assert image["src"].startswith(f"{base}/dcs/"), image["src"]
    css = [name for name in state["loaded"] if name.endswith("/assets/css/main.css")]
    assert css and all(name.startswith(f"{base}/dcs/") for name in css), state["loaded"]
    assert state["headerColor"] == "rgb(181, 0, 0)"  # main.css's header colour: it applied
    assert all(name.startswith(base) for name in state["loaded"]), "something came from elsewhere"

    width, height, variety = png_facts(shot.read_bytes())
    assert width >= 800 and height >= 600
    assert shot.stat().st_size > 10_000 and variety > 20, "the screenshot looks blank"


def test_calendar_of_captures_in_a_browser(chromium, replay_server, small_archive):
    base, _ = replay_server
    with Chromium(chromium) as browser:
        browser.open(f"{base}/dcs/*/{small_archive.seed_url}")
        # pywb draws the calendar in the page from its CDX API: both captures are counted.
        text = browser.wait_for(CALENDAR_TEXT, timeout=30)
    assert "All-time (2 captures)" in text
    assert f"{small_archive.seed_timestamp[:4]} (2 captures)" in text
