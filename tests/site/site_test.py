#!/usr/bin/python3
"""site_test.py: builds the site (docs/site/build_site.py, mkdocs --strict) and opens every page in
headless Chromium, driven by Selenium. For every page it checks:
  * the browser console has no SEVERE entry (a failed load, a script error);
  * every internal link and every image answers HTTP 200 from the local server, and a link's
    #anchor exists on the target page;
  * nothing it loads (scripts, styles, fonts, images) comes from another origin;
  * every <img> has a non-zero natural size once loaded (so each SVG diagram renders);
  * no table or code block scrolls sideways, no image is shrunk below 0.8 of its width, and
    every text of an SVG diagram is shown at >= 11 px (MIN_DIAGRAM_TEXT);
  * no <summary> shows raw Markdown (backticks, **, a link's "](");
and once for the site:
  * every name in a lesson's "Files" table is a file, and links to the generated page of that
    file (build_site.py's sources.json lists them), which shows the file's whole text,
    highlighted; those pages are read over HTTP, not opened in the browser;
  * every lesson's title reads "Lesson NN: ..." (or NNb);
  * the search box finds a lesson by a word only that lesson contains;
  * opened from file://, the search box says that search needs `site.sh serve`.

It first checks itself on a tiny fixture site with one broken link, one missing image, one
missing anchor and one image from another origin, and a layout page with a wide code block, a
shrunk image, a raw-Markdown summary and 5 px diagram text: the checks must report each of them
(and nothing on a clean page), or the test fails. The staging is checked on a tiny repository.

The site is served by http.server on 127.0.0.1, on a free port, started and stopped here.
Exit 77 (skipped) only when mkdocs, mkdocs-material, pymdownx, selenium, chromium or
chromedriver is missing; scripts/setup.sh installs all of them.

  /usr/bin/python3 tests/site/site_test.py [--keep] [--work DIR]
"""

import argparse
import functools
import html
import json
import http.server
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SKIP = 77
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


# The layout checks (Checker.layout_problems) at a common desktop window.
WINDOW = (1400, 1000)
RESULTS_PAGE = "docs/results.html"
RESULTS_MAX_HEIGHT = 15_000    # px: a reader scrolls 15 screens at most
DECISIONS_WITHIN = 2 * WINDOW[1]  # the first decision table starts within two screens
MIN_IMAGE_SCALE = 0.8          # an image shown at >= 0.8 x its natural width keeps its text
LESSON_TITLE = re.compile(r"^Lesson \d\d[a-z]?: \S")  # "Lesson 05b: crash recovery ..."
FILE_SEARCH_NOTE = "site.sh serve"  # what the search box says when opened from file://
MIN_DIAGRAM_TEXT = 11          # px: the smallest text of an SVG diagram, as the page shows it

# Every text of every SVG image on the page, at the size the page shows it: the SVG is fetched,
# drawn (hidden) at the image's displayed box, and each text's font size is multiplied by the
# scale from its coordinates to the screen. Mermaid draws labels as HTML in <foreignObject>,
# hand-drawn diagrams as <text>. The results page's plots are left out: matplotlib draws their
# text as paths (nothing to measure) and parsing them costs seconds. Returns
# [[src, smallest px, its text]] for each image shown with a width.
SVG_TEXT_SIZES = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images).filter(i =>
  /\\.svg(#|\\?|$)/.test(i.currentSrc || i.src) && i.naturalWidth > 0 &&
  new URL(i.currentSrc || i.src).origin === location.origin &&
  !new URL(i.currentSrc || i.src).pathname.includes('/docs/results/') &&
  i.getBoundingClientRect().width > 0);
Promise.all(imgs.map(async img => {
  const src = img.currentSrc || img.src;
  const box = img.getBoundingClientRect();
  const text = await (await fetch(src)).text();
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  if (doc.documentElement.tagName.toLowerCase() !== 'svg') return null;
  const svg = document.importNode(doc.documentElement, true);
  const holder = document.createElement('div');
  holder.style.cssText = 'position:absolute;left:0;top:0;visibility:hidden;';
  svg.setAttribute('width', box.width);
  svg.setAttribute('height', box.height);
  svg.style.maxWidth = 'none';
  holder.appendChild(svg);
  document.body.appendChild(holder);
  let best = null;
  const scale = e => { const m = e.getScreenCTM(); return m ? Math.hypot(m.a, m.b) : 1; };
  const consider = (e, k) => {
    const own = Array.from(e.childNodes).filter(n => n.nodeType === 3)
                     .map(n => n.textContent).join('').trim();
    if (!own) return;
    const px = parseFloat(getComputedStyle(e).fontSize) * k;
    if (best === null || px < best[0]) best = [px, own.slice(0, 40)];
  };
  svg.querySelectorAll('text, tspan').forEach(e => consider(e, scale(e)));
  svg.querySelectorAll('foreignObject').forEach(fo => {
    const k = scale(fo);
    fo.querySelectorAll('*').forEach(e => consider(e, k));
  });
  holder.remove();
  return best ? [src, best[0], best[1]] : null;
})).then(r => done(r.filter(x => x)), e => done([['error', 0, String(e)]]));
"""


def load_site_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("cp_site", REPO / "docs" / "site" / "build_site.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # The browser closes connections it no longer needs (a page left mid-load): not a fault.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Server:
    """http.server on 127.0.0.1, a free port, in a thread."""

    def __init__(self, root):
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = QuietServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def start_browser(profile_dir):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile_dir}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_window_size(*WINDOW)
    driver.set_script_timeout(30)
    return driver


class Checker:
    """Checks pages of one served site; remembers answers per URL."""

    def __init__(self, driver, base):
        self.driver = driver
        self.base = base
        self.status = {}   # url without fragment -> HTTP status (0: no answer)
        self.ids = {}      # url without fragment -> set of element ids (HTML pages)

    def http_status(self, url):
        if url not in self.status:
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    self.status[url] = r.status
                    if "html" in r.headers.get("Content-Type", ""):
                        body = r.read().decode("utf-8", "replace")
                        self.ids[url] = set(re.findall(r"""\bid=["']?([^"'\s>]+)""", body))
            except urllib.error.HTTPError as e:
                self.status[url] = e.code
            except (urllib.error.URLError, OSError):
                self.status[url] = 0
        return self.status[url]

    def internal(self, url):
        return url.startswith(self.base)

    def check_page(self, url):
        """Opens one page; returns the list of problems found on it."""
        from selenium.common.exceptions import WebDriverException
        d = self.driver
        problems = []
        for attempt in (1, 2):
            # On a loaded machine chromedriver can give up waiting for the renderer; that is
            # the machine, not the page: one more try, then it counts as a failure.
            try:
                d.get(url)
                break
            except WebDriverException as e:
                if attempt == 2:
                    return [f"page did not load: {str(e).splitlines()[0]}"]
                time.sleep(1)
        # Wait until the page and its images finished loading (complete is true even for a
        # broken image, so this ends).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done = d.execute_script(
                "return document.readyState === 'complete' && "
                "Array.from(document.images).every(i => i.complete);")
            if done:
                break
            time.sleep(0.05)
        for entry in d.get_log("browser"):
            if entry.get("level") == "SEVERE":
                problems.append(f"console error: {entry.get('message')}")
        links = d.execute_script(
            "return Array.from(document.querySelectorAll('a[href]'), a => a.href);")
        for href in sorted(set(links)):
            if not self.internal(href):
                continue
            target, _, frag = href.partition("#")
            code = self.http_status(target)
            if code != 200:
                problems.append(f"broken link: {href} (HTTP {code})")
            elif frag and target in self.ids:
                if urllib.parse.unquote(frag) not in self.ids[target]:
                    problems.append(f"broken anchor: {href}")
        # Nothing a page loads may come from elsewhere: no CDN, no web fonts.
        loaded = d.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name).concat("
            "Array.from(document.querySelectorAll('script[src]'), e => e.src),"
            "Array.from(document.querySelectorAll('link[href]:not([rel=canonical])'),"
            "           e => e.href),"
            "Array.from(document.querySelectorAll('img[src], iframe[src]'), e => e.src));")
        for res in sorted(set(loaded)):
            if re.match(r"^(https?|wss?):", res) and not self.internal(res):
                problems.append(f"external resource: {res}")
        images = d.execute_script(
            "return Array.from(document.images, i => "
            "[i.currentSrc || i.src, i.naturalWidth, i.naturalHeight]);")
        for src, w, h in images:
            if self.internal(src):
                code = self.http_status(src.partition("#")[0])
                if code != 200:
                    problems.append(f"broken image: {src} (HTTP {code})")
                    continue
            if not (w and h):
                problems.append(f"image does not render: {src} ({w}x{h})")
        return problems + self.layout_problems(url)

    def layout_problems(self, url):
        """At WINDOW: no table or code block scrolls sideways, every image is shown at >=
        MIN_IMAGE_SCALE of its natural width; the results page is under RESULTS_MAX_HEIGHT
        and its first decision table starts within DECISIONS_WITHIN."""
        d = self.driver
        problems = []
        wide = d.execute_script(
            "return Array.from(document.querySelectorAll("
            "'.md-typeset__scrollwrap, .md-typeset pre > code'), e => "
            "[e.className || e.tagName, e.scrollWidth, e.clientWidth, "
            " (e.textContent || '').trim().slice(0, 50)])"
            ".filter(x => x[1] > x[2] + 1);")
        for cls, sw, cw, text in wide:
            problems.append(f"wider than its column ({sw} > {cw} px): {cls}: {text!r}")
        small = d.execute_script(
            "return Array.from(document.images, i => [i.currentSrc || i.src, i.naturalWidth,"
            " i.getBoundingClientRect().width]).filter(x => x[1] > 0 && x[2] > 0);")
        for src, natural, shown in small:
            if shown < MIN_IMAGE_SCALE * natural:
                problems.append(f"image shrunk to {shown:.0f} of {natural} px (text would be "
                                f"illegible): {src}")
        raw = d.execute_script(
            "return Array.from(document.querySelectorAll('summary'), e => e.textContent)"
            ".filter(t => /`|\\*\\*|\\]\\(/.test(t));")
        for text in raw:
            problems.append(f"raw Markdown in a summary: {text.strip()[:60]!r}")
        for src, px, text in d.execute_async_script(SVG_TEXT_SIZES):
            if px < MIN_DIAGRAM_TEXT:
                problems.append(f"diagram text shown at {px:.1f} px (limit {MIN_DIAGRAM_TEXT}): "
                                f"{text!r} in {src}")
        if url.endswith(RESULTS_PAGE):
            height = d.execute_script("return document.documentElement.scrollHeight;")
            if height >= RESULTS_MAX_HEIGHT:
                problems.append(f"results page is {height} px tall (limit {RESULTS_MAX_HEIGHT})")
            top = d.execute_script(
                "const h = Array.from(document.querySelectorAll('h3')).find("
                "  e => e.textContent.startsWith('Decisions:'));"
                "return h ? h.getBoundingClientRect().top + window.scrollY : null;")
            if top is None:
                problems.append("results page has no decision table")
            elif top > DECISIONS_WITHIN:
                problems.append(f"the first decision table starts at {top:.0f} px "
                                f"(limit {DECISIONS_WITHIN})")
        return problems

    def search_finds(self, word, page_path):
        """Types word into the search box of the home page; is page_path among the results?"""
        from selenium.webdriver.common.by import By
        d = self.driver
        d.get(self.base + "index.html")
        box = d.find_element(By.CSS_SELECTOR, "input.md-search__input")
        # Open the search overlay through its toggle (what the header's search button does),
        # without a click: on a narrow window the input itself can cover the button.
        d.execute_script(
            "const t = document.getElementById('__search');"
            "if (t && !t.checked) { t.checked = true; t.dispatchEvent(new Event('change')); }"
            "arguments[0].focus();", box)
        try:
            box.send_keys(word)
        except Exception:  # not interactable yet: type through the page's own events
            d.execute_script(
                "arguments[0].value = arguments[1];"
                "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                "arguments[0].dispatchEvent(new KeyboardEvent('keyup', {bubbles: true}));",
                box, word)
        deadline = time.monotonic() + 60  # the index loads in a web worker; slow when busy
        hrefs = []
        while time.monotonic() < deadline:
            hrefs = d.execute_script(
                "return Array.from(document.querySelectorAll("
                "'.md-search-result a.md-search-result__link'), a => a.href);")
            if hrefs:
                break
            time.sleep(0.1)
        want = self.base + page_path
        found = any(h.partition("#")[0].partition("?")[0] == want for h in hrefs)
        return found, hrefs


def page_of(md):
    """The site page of a staged Markdown path (use_directory_urls is off; README is index)."""
    if md.name in ("README.md", "index.md"):
        return (md.parent / "index.html").as_posix()
    return md.with_suffix(".html").as_posix()


def unique_lesson_word(docs_dir, lessons):
    """A word that appears in exactly one lesson README (and the most often there): returns
    (word, lesson path). Deterministic for a given text."""
    words = {}
    for rel in lessons:
        text = (docs_dir / rel).read_text(encoding="utf-8").lower()
        words[rel] = Counter(re.findall(r"\b[a-z]{7,}\b", text))
    best = None
    for rel, counts in words.items():
        for w, n in counts.items():
            if any(w in other for r2, other in words.items() if r2 != rel):
                continue
            key = (n, w)
            if best is None or key > best[0]:
                best = (key, w, rel)
    if best is None:
        return None, None
    return best[1], best[2]


def relative_href(target, page):
    """The href a page at site path page uses for the site path target."""
    import os
    return Path(os.path.relpath(target, Path(page).parent)).as_posix()


def html_page(path):
    """The site page of a staged path: a generated page <file>.md is <file>.html, an image is
    itself."""
    return Path(path).with_suffix(".html") if path.endswith(".md") else Path(path)


def check_sources(checker, site_dir, stage_dir):
    """Every name of a lesson's Files table is a file and links to its generated page (or, for an
    image, to the image); every generated page answers 200 and shows the file's whole text,
    highlighted. Read from the served HTML (no browser: a source page has no scripts of its
    own). Returns (problems, number of names, number of source pages)."""
    manifest = json.loads((stage_dir / "sources.json").read_text(encoding="utf-8"))
    problems, names = [], 0
    for md, entries in sorted(manifest["pages"].items()):
        if not md.startswith("lessons/"):
            continue
        page = page_of(Path(md))
        body = (site_dir / page).read_text(encoding="utf-8")
        for name, src, target in entries:
            names += 1
            if src is None:
                problems.append(f"{page}: its Files table names `{name}`, which is no file")
                continue
            href = relative_href(html_page(target), page)
            if f'href="{href}"' not in body:
                problems.append(f"{page}: `{name}` is not a link to {href}")
            code = checker.http_status(checker.base + html_page(target).as_posix())
            if code != 200:
                problems.append(f"{page}: `{name}` links to {href}, HTTP {code}")
    for src_page in manifest["sources"]:
        url = checker.base + html_page(src_page).as_posix()
        if checker.http_status(url) != 200:
            problems.append(f"source page {url}: HTTP {checker.status[url]}")
            continue
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read().decode("utf-8")
        block = re.search(r'<div class="highlight"><pre>(.*?)</pre></div>', body, re.DOTALL)
        source = REPO / src_page[:-len(".md")]
        if not block:
            problems.append(f"source page {url}: no highlighted block")
            continue
        shown = html.unescape(re.sub(r"<[^>]+>", "", block.group(1)))
        if shown.strip() != source.read_text(encoding="utf-8").strip():
            problems.append(f"source page {url}: the block is not the text of {source.name}")
        if source.suffix in (".cpp", ".hpp", ".h", ".py", ".sh") and \
                '<span class="k' not in block.group(1):
            problems.append(f"source page {url}: {source.suffix} text without highlighting")
    return problems, names, len(manifest["sources"])


def check_titles(site_dir, lessons):
    """Every lesson page's title follows LESSON_TITLE."""
    problems = []
    for md in lessons:
        page = page_of(md)
        body = (site_dir / page).read_text(encoding="utf-8")
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.DOTALL)
        title = html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))).replace("\u00b6", "").strip() \
            if h1 else ""
        if not LESSON_TITLE.match(title):
            problems.append(f"{page}: title {title!r} is not 'Lesson NN: ...'")
    return problems


def check_file_search_note(driver, site_dir, served_url):
    """Opened from file://, the search box says that search needs site.sh serve; served, not."""
    from selenium.webdriver.common.by import By
    problems = []
    for url, want in ((served_url, False), ((site_dir / "index.html").resolve().as_uri(), True)):
        driver.get(url)
        time.sleep(0.6)  # the note is written again after 0.5 s
        placeholder = driver.find_element(By.CSS_SELECTOR, "input.md-search__input") \
                            .get_attribute("placeholder") or ""
        if (FILE_SEARCH_NOTE in placeholder) != want:
            problems.append(f"{url}: the search box says {placeholder!r}"
                            f"{'' if want else ' when served'}")
    driver.get_log("browser")  # file:// refuses the search worker: not a page's fault
    return problems


FIXTURE = {
    "index.html": """<!doctype html><html><head><title>fixture</title><link rel="icon" href="data:,"></head><body>
<p id="top">fixture</p>
<a href="good.html">good</a> <a href="good.html#here">good anchor</a>
<a href="missing.html">broken</a> <a href="good.html#nowhere">broken anchor</a>
<img src="ok.svg" alt="ok"> <img src="gone.svg" alt="gone">
<img src="{other}ok.svg" alt="from another origin">
</body></html>""",
    "good.html": """<!doctype html><html><head><title>good</title><link rel="icon" href="data:,"></head><body>
<p id="here">here</p></body></html>""",
    "layout.html": """<!doctype html><html><head><title>layout</title><link rel="icon" href="data:,">
<style>pre > code { display: block; overflow: auto; width: 300px; }</style></head><body>
<div class="md-typeset"><pre><code>{long}</code></pre></div>
<img src="ok.svg" alt="shrunk" style="width: 10px">
<details><summary>a `raw` summary</summary>text</details>
<img src="tiny.svg" alt="small text"></body></html>""",
    "tiny.svg": """<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40" viewBox="0 0 800 160">
<text x="10" y="80" font-size="20">shown at 5 px</text></svg>""",
    "ok.svg": """<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">
<rect width="40" height="20" fill="#8c8"/></svg>""",
}


def self_test(driver, work):
    """The checks must catch a broken link, a missing image and a missing anchor."""
    root = work / "fixture"
    root.mkdir()
    # A second server plays "another origin" (a CDN) without touching the network.
    with Server(root) as srv, Server(root) as other:
        for name, text in FIXTURE.items():
            (root / name).write_text(text.replace("{other}", other.base)
                                     .replace("{long}", "x" * 400), encoding="utf-8")
        checker = Checker(driver, srv.base)
        problems = checker.check_page(srv.base + "index.html")
        good = checker.check_page(srv.base + "good.html")
        layout = checker.check_page(srv.base + "layout.html")
    for want in ("wider than its column", "image shrunk", "raw Markdown in a summary",
                 "diagram text shown at 5.0 px"):
        if not any(want in p for p in layout):
            print(f"self-test FAILED: a layout fault is not reported: {want}; got {layout}")
            return False
    wanted = [f"broken link: {srv.base}missing.html",
              f"broken anchor: {srv.base}good.html#nowhere",
              f"broken image: {srv.base}gone.svg",
              f"external resource: {other.base}ok.svg",
              "console error:"]
    failures = [w for w in wanted if not any(p.startswith(w) for p in problems)]
    extra = [p for p in problems
             if not any(p.startswith(w) for w in wanted) and "gone.svg" not in p]
    if failures or extra or good:
        print("self-test FAILED: the checks do not see the fixture's known faults")
        for f in failures:
            print(f"  not reported: {f}")
        for p in extra + good:
            print(f"  false report: {p}")
        return False
    print(f"self-test: the fixture's {len(wanted)} known faults are reported")
    return True


def self_test_staging(site, work):
    """Staging on a tiny repository: a lesson folder that the config does not name appears in
    the nav, in numeric order, its second part right after it; a source file a README links to is copied at its own path; a
    Markdown file under build/ is left out. Needs no browser and no mkdocs build."""
    import yaml
    repo = work / "fixture-repo"
    files = {
        "README.md": "# Home\n[lessons](lessons/README.md)\n",
        "lessons/README.md": "# Lessons\n",
        "lessons/01-first/README.md": "# Lesson 01: `first`\n[code](code.hpp) `[no](x.hpp)`\n"
                                      "<details><summary>Why `x`?</summary>\n\nok\n</details>\n\n"
                                      "## Files\n\n| file | what |\n| --- | --- |\n"
                                      "| `code.hpp`, `gone.hpp` | `not_a_file` |\n"
                                      "| `tools/t.py`, `u.py` | two |\n",
        "tools/t.py": "print('t')\n",
        "tools/u.py": "print('u ``` ')\n",
        "lessons/01-first/code.hpp": "// code\n",
        "lessons/10-later/README.md": "# Lesson 10: later\n",
        "lessons/06-new/README.md": "# Lesson 06: new\n![d](d.svg)\n",
        "lessons/06-new/part-two.md": "# Lesson 06b: `part` two\n",
        "lessons/06-new/d.svg": FIXTURE["ok.svg"],
        "build/x/README.md": "# build output\n",
        "cfg.yml": "site_name: t\nnav:\n  - Home: README.md\n  - Lessons:\n"
                   "      - lessons/README.md\n      - \"@lessons\"\n",
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    cfg = site.stage(work / "fixture-stage", repo=repo, config=repo / "cfg.yml")
    nav = yaml.safe_load(cfg.read_text(encoding="utf-8"))["nav"]
    docs = work / "fixture-stage" / "docs"
    want_nav = [{"Home": "README.md"},
                {"Lessons": ["lessons/README.md",
                             {"Lesson 01: first": "lessons/01-first/README.md"},
                             {"Lesson 06: new": "lessons/06-new/README.md"},
                             {"Lesson 06b: part two": "lessons/06-new/part-two.md"},
                             {"Lesson 10: later": "lessons/10-later/README.md"}]}]
    problems = []
    if nav != want_nav:
        problems.append(f"nav is {nav}, expected {want_nav}")
    for rel in ("lessons/01-first/code.hpp", "lessons/06-new/d.svg"):
        if not (docs / rel).is_file():
            problems.append(f"{rel} not staged")
    for rel in ("build/x/README.md", "lessons/01-first/x.hpp"):
        if (docs / rel).exists():
            problems.append(f"{rel} staged but should not be")
    readme = (docs / "lessons/01-first/README.md").read_text(encoding="utf-8")
    for want in ("[code](code.hpp.md)", "[`code.hpp`](code.hpp.md), `gone.hpp`",
                 "[`tools/t.py`](../../tools/t.py.md), [`u.py`](../../tools/u.py.md)",
                 "| `not_a_file` |", "<summary>Why <code>x</code>?</summary>"):
        if want not in readme:
            problems.append(f"staged lesson lacks {want!r}")
    for rel, text in (("lessons/01-first/code.hpp.md", "// code"),
                      ("tools/u.py.md", "````")):
        page = docs / rel
        if not page.is_file() or text not in page.read_text(encoding="utf-8"):
            problems.append(f"source page {rel} missing or without {text!r}")
    manifest = json.loads((work / "fixture-stage" / site.SOURCES_MANIFEST).read_text())
    got = manifest["pages"].get("lessons/01-first/README.md")
    want = [["code.hpp", "lessons/01-first/code.hpp", "lessons/01-first/code.hpp.md"],
            ["gone.hpp", None, None], ["tools/t.py", "tools/t.py", "tools/t.py.md"],
            ["u.py", "tools/u.py", "tools/u.py.md"]]
    if got != want:
        problems.append(f"sources manifest is {got}, expected {want}")
    for p in problems:
        print(f"staging self-test FAILED: {p}")
    if not problems:
        print("staging self-test: new lessons join the nav in order, linked files are staged, "
              "Files tables link generated source pages, summaries are rendered")
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", help="work folder (default: a fresh temporary folder)")
    ap.add_argument("--verbose", action="store_true", help="time each page")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()

    missing = []
    for mod in ("mkdocs", "material", "pymdownx", "selenium", "yaml"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not Path(exe).exists():
            missing.append(exe)
    if missing:
        print(f"SKIPPED: missing {', '.join(missing)}; scripts/setup.sh installs them "
              "(mkdocs mkdocs-material python3-pymdownx chromium chromium-driver "
              "python3-selenium)")
        return SKIP

    site = load_site_module()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="cp-site-test-"))
    if args.work and work.exists():
        shutil.rmtree(work)  # a fresh browser profile and staging folder every run
    work.mkdir(parents=True)
    started = time.monotonic()
    try:
        if not self_test_staging(site, work):
            return 1
        stage_dir, site_dir = work / "site-src", work / "site"
        rc = site.build(stage_dir, site_dir, strict=True, quiet=True)
        if rc != 0:
            print(f"FAILED: mkdocs build --strict exited {rc}")
            return 1
        sources = {html_page(p).as_posix() for p in json.loads(
            (stage_dir / "sources.json").read_text(encoding="utf-8"))["sources"]}
        pages = sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html")
                       if p.name != "404.html"
                       and p.relative_to(site_dir).as_posix() not in sources)
        lessons = site.lesson_readmes(stage_dir / "docs")
        expected = ["index.html", "lessons/index.html"] + [page_of(p) for p in lessons]
        absent = [p for p in expected if p not in pages]
        if absent:
            print(f"FAILED: pages missing from the site: {absent}")
            return 1

        profile = work / "chromium-profile"
        driver = start_browser(profile)
        failed = False
        try:
            if not self_test(driver, work):
                return 1
            with Server(site_dir) as srv:
                checker = Checker(driver, srv.base)
                for page in pages:
                    t0 = time.monotonic()
                    problems = checker.check_page(srv.base + page)
                    if args.verbose:
                        print(f"  {page}: {time.monotonic() - t0:.2f} s")
                    for p in problems:
                        print(f"FAILED {page}: {p}")
                    failed |= bool(problems)
                print(f"checked {len(pages)} pages, {len(checker.status)} distinct URLs")
                problems, names, count = check_sources(checker, site_dir, stage_dir)
                problems += check_titles(site_dir, lessons)
                for p in problems:
                    print(f"FAILED {p}")
                failed |= bool(problems)
                print(f"Files tables: {names} names; {count} generated source pages; "
                      f"{len(lessons)} lesson titles")
                word, lesson = unique_lesson_word(stage_dir / "docs", lessons)
                if word is None:
                    print("FAILED: no word appears in exactly one lesson; cannot test search")
                    failed = True
                else:
                    page = page_of(lesson)
                    found, hrefs = checker.search_finds(word, page)
                    if found:
                        print(f"search: '{word}' finds {page}")
                    else:
                        print(f"FAILED search: '{word}' does not find {page}; results: {hrefs}")
                        failed = True
                problems = check_file_search_note(driver, site_dir, srv.base + "index.html")
                for p in problems:
                    print(f"FAILED file://: {p}")
                if not problems:
                    print(f"file://: the search box says it needs {FILE_SEARCH_NOTE}")
                failed |= bool(problems)
        finally:
            driver.quit()
        print(f"{'FAILED' if failed else 'passed'} in {time.monotonic() - started:.1f} s")
        return 1 if failed else 0
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
