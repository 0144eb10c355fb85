#!/usr/bin/python3
"""site_test.py: builds the site (docs/site/build_site.py, mkdocs --strict) and opens every page in
headless Chromium, driven by Selenium. For every page it checks:
  * the browser console has no SEVERE entry (a failed load, a script error);
  * every internal link and every image answers HTTP 200 from the local server, and a link's
    #anchor exists on the target page;
  * nothing it loads (scripts, styles, fonts, images) comes from another origin;
  * every <img> has a non-zero natural size once loaded (so each SVG diagram renders);
and once for the site: the search box finds a lesson by a word only that lesson contains.

It first checks itself on a tiny fixture site with one broken link, one missing image, one
missing anchor and one image from another origin: the checks must report each of them (and
nothing on a clean page), or the test fails.

The site is served by http.server on 127.0.0.1, on a free port, started and stopped here.
Exit 77 (skipped) only when mkdocs, mkdocs-material, pymdownx, selenium, chromium or
chromedriver is missing; scripts/setup.sh installs all of them.

  /usr/bin/python3 tests/site/site_test.py [--keep] [--work DIR]
"""

import argparse
import functools
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
<img src="ok.svg" alt="shrunk" style="width: 10px"></body></html>""",
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
    for want in ("wider than its column", "image shrunk"):
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
        "lessons/01-first/README.md": "# Lesson 01: `first`\n[code](code.hpp) `[no](x.hpp)`\n",
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
    for p in problems:
        print(f"staging self-test FAILED: {p}")
    if not problems:
        print("staging self-test: new lessons join the nav in order, linked files are staged")
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
        pages = sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html")
                       if p.name != "404.html")
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
        finally:
            driver.quit()
        print(f"{'FAILED' if failed else 'passed'} in {time.monotonic() - started:.1f} s")
        return 1 if failed else 0
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
