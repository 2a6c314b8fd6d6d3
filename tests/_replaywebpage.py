"""ReplayWeb.page, the WACZ's own client, driven in headless Chromium (tests and bench).

scripts/install-replaywebpage.sh puts the npm package's ui.js, sw.js and index.html (the
app of https://replayweb.page) in a folder; `replaywebpage_site` serves them with a WACZ
on loopback (a service worker needs a secure context, which http://127.0.0.1 is), and
`ReplayWebPage` opens the WACZ as a user would: `index.html?source=NAME.wacz`.

The app draws everything inside the shadow roots of its web components (wr-page-view,
wr-page-entry, ...); `deepAll` walks them. The replayed page itself is in an iframe served
by the service worker from the same origin, so its document can be read directly. These
element names are ReplayWeb.page's internals, not an API: the install script pins the
version they were read from.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from _chromium import Chromium
from _static import StaticServer

REPO = Path(__file__).resolve().parent.parent
INSTALL_SCRIPT = REPO / "scripts" / "install-replaywebpage.sh"
APP_FILES = ("index.html", "ui.js", "sw.js")

# Every element matching a selector, inside shadow roots too (defined once per page).
DEEP_ALL = """
globalThis.deepAll = globalThis.deepAll || ((selector) => {
  const found = [];
  const walk = (node) => {
    if (node.matches && node.matches(selector)) found.push(node);
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.children || []) walk(child);
  };
  if (document.documentElement) walk(document.documentElement);
  return found;
});
"""

PAGE_LIST = (
    DEEP_ALL
    + """
(() => {
  const view = deepAll('wr-page-view')[0];
  if (!view) return null;
  const counted = view.shadowRoot.textContent.match(/([\\d,.]+) pages?\\b/);
  return {
    shown: deepAll('wr-page-entry').map(entry => entry.page && entry.page.url),
    counted: counted ? Number(counted[1].replace(/[,.]/g, '')) : null,
  };
})()
"""
)

LOAD_ERROR = (
    DEEP_ALL
    + """
(() => {
  const text = document.documentElement.innerText + deepAll('*').map(
    node => node.shadowRoot ? node.shadowRoot.textContent : '').join(' ');
  const match = text.match(/Unexpected Loading Error[^\\n]*/);
  return match ? match[0].slice(0, 300) : null;
})()
"""
)

SEARCH = (
    DEEP_ALL
    + """
((word) => {
  const input = deepAll('wr-page-view')[0].shadowRoot.querySelector('input');
  input.value = word;
  input.dispatchEvent(new Event('input', {bubbles: true, composed: true}));
  input.dispatchEvent(new KeyboardEvent('keyup', {bubbles: true, composed: true}));
  return true;
})(%s)
"""
)

OPEN_ENTRY = (
    DEEP_ALL
    + """
((url) => {
  const entry = deepAll('wr-page-entry').find(e => e.page && e.page.url === url);
  const link = entry && entry.shadowRoot.querySelector('a[href*="view=pages"]');
  if (!link) return false;
  link.click();
  return true;
})(%s)
"""
)

# The replayed page, once its document, heading and pictures are loaded.
REPLAYED = (
    DEEP_ALL
    + """
(() => {
  const frame = deepAll('iframe').find(f => f.name === '___wb_replay_top_frame');
  const doc = frame && frame.contentDocument;
  if (!doc || doc.readyState !== 'complete' || !doc.querySelector('h1')) return null;
  const images = [...doc.querySelectorAll('img')];
  if (!images.every(img => img.complete)) return null;
  const header = doc.querySelector('header, .header');
  return {
    location: frame.contentWindow.location.href,
    title: doc.title,
    h1: doc.querySelector('h1').textContent.trim(),
    images: images.map(img => ({src: img.currentSrc, width: img.naturalWidth})),
    headerColor: header ? getComputedStyle(header).backgroundColor : null,
  };
})()
"""
)


class ReplayWebPageMissing(RuntimeError):
    """ReplayWeb.page could not be installed; the message says why."""


def install_replaywebpage(timeout: float = 600) -> Path:
    """The folder holding ReplayWeb.page's app, installed by the project's script if needed."""
    try:
        run = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise ReplayWebPageMissing(f"{INSTALL_SCRIPT.name} timed out") from None
    lines = run.stdout.strip().splitlines()
    folder = Path(lines[-1]) if lines else None
    if run.returncode != 0 or folder is None or not all((folder / f).is_file() for f in APP_FILES):
        last = (run.stderr.strip() or run.stdout.strip() or "no output").splitlines()[-1]
        raise ReplayWebPageMissing(f"{INSTALL_SCRIPT.name} failed: {last}")
    return folder


@contextmanager
def replaywebpage_site(app: Path, wacz: Path, folder: Path) -> Iterator[StaticServer]:
    """Serve ReplayWeb.page's files and `wacz` from `folder` on a free loopback port."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in APP_FILES:
        shutil.copyfile(app / name, folder / name)
    target = folder / wacz.name
    if target != wacz:
        target.unlink(missing_ok=True)
        target.symlink_to(wacz.resolve())
    with StaticServer(folder) as server:
        yield server


class ReplayWebPage:
    """The ReplayWeb.page app in a headless Chromium, with one WACZ open."""

    def __init__(self, browser: Chromium, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.wacz = ""

    def open(self, wacz_name: str, timeout: float = 60) -> float:
        """Open the WACZ; returns the seconds until its page list showed its first page."""
        self.wacz = wacz_name
        start = time.monotonic()
        self.browser.open(f"{self.base_url}/index.html?source={quote(wacz_name)}")
        self.wait(lambda: self.page_list()["shown"], timeout, "the page list")
        return time.monotonic() - start

    def page_list(self) -> dict:
        """{"shown": URLs of the page entries drawn, "counted": the count the app prints}."""
        return self.browser.evaluate(PAGE_LIST) or {"shown": [], "counted": None}

    def listed(self, pages: int, timeout: float = 30) -> list[str]:
        """The URLs in the page list, once the app counts `pages` pages in it."""

        def all_counted() -> list[str] | None:
            state = self.page_list()
            return state["shown"] if state["counted"] == pages else None

        return self.wait(all_counted, timeout, f"{pages} pages in the page list")

    def search(self, word: str, until: list[str], timeout: float = 30) -> list[str]:
        """Type `word` in the page list's search box; wait until it lists `until`."""
        self.browser.evaluate(SEARCH % json.dumps(word))
        return self.wait(
            lambda: (shown := self.page_list()["shown"]) == until and shown,
            timeout,
            f"the search for {word!r} to list {', '.join(until)}",
        )

    def open_entry(self, url: str) -> None:
        """Click the page list's entry of `url`, as a user would."""
        if not self.browser.evaluate(OPEN_ENTRY % json.dumps(url)):
            raise AssertionError(f"no entry for {url} in the page list")

    def replay(self, url: str) -> None:
        """Show the archived page at `url`, as when it is typed in the app's location bar."""
        self.browser.evaluate(f"location.hash = 'view=pages&url=' + {json.dumps(quote(url))}")

    def replayed(self, timeout: float = 30) -> dict:
        """The replayed page's state once it and its pictures have loaded."""
        return self.wait(lambda: self.browser.evaluate(REPLAYED), timeout, "the replayed page")

    def wait(self, probe, timeout: float, what: str):
        """Poll `probe` until it gives a truthy value; fail with the app's error if it shows one."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            error = self.browser.evaluate(LOAD_ERROR)
            if error:
                raise AssertionError(f"ReplayWeb.page could not open {self.wacz}: {error}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.2)
