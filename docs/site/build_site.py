#!/usr/bin/python3
"""build_site.py: builds this repository's Markdown into a static site with mkdocs (Debian's mkdocs,
mkdocs-material and python3-pymdownx), and serves it on 127.0.0.1.

The staging folder mirrors the repository: every Markdown file keeps its path, and every file
a Markdown file links to (images, sources) is copied beside it at its own path. So a relative
link that works on GitHub works in the site. The configuration is docs/site/mkdocs.yml; its
nav entry "@lessons" becomes every lessons/NN-*/README.md that exists, in order, each followed
by the other Markdown pages of its folder (a lesson's second part, such as 05b).

Three changes to the staged copies (the repository's Markdown stays as GitHub shows it):
  * every file a "Files" table names in its first column (`counters.hpp`, or a path from the
    repository's root, or a bare name after a path in the same cell) and every linked source
    file gets a generated page, <file>.md, its text highlighted by Pygments; the name becomes a
    link to that page. stage() lists them in sources.json (site_test checks each);
  * a <summary> line's Markdown (`code`, **bold**, links) is rendered to HTML, because
    Python-Markdown leaves raw HTML lines as they are;
  * the generated pages are left out of the search index (search finds the lessons).

Run it through scripts/site.sh (see --help there). Only Debian's python3, no pip.
"""

import argparse
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "docs" / "site" / "mkdocs.yml"
LESSONS_MARKER = "@lessons"
# Folders whose Markdown is not part of the site: build output, measured runs, dot-folders.
SKIP_DIRS = {"build", "results"}

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")
MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")
HTML_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
FILES_HEADING = re.compile(r"^#{2,6}\s+(?:The\s+)?files\b", re.IGNORECASE)
CODE_SPAN = re.compile(r"`([^`\s]+)`")
SUMMARY = re.compile(r"<summary>(.*?)</summary>")
IMAGE_SUFFIXES = {".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"}
SOURCE_PAGE_MAX = 512 * 1024  # bytes: a larger file is linked raw, without a page
SOURCES_MANIFEST = "sources.json"


def markdown_files(repo=REPO):
    """Every Markdown file of the repository, as paths relative to it, sorted."""
    out = []
    for path in repo.rglob("*.md"):
        rel = path.relative_to(repo)
        parts = rel.parts[:-1]
        if parts and (parts[0] in SKIP_DIRS or any(p.startswith(".") for p in parts)):
            continue
        out.append(rel)
    return sorted(out)


def prose(text):
    """The text without fenced code blocks and inline code: code is not links."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(INLINE_CODE.sub(" ", line))
    return "\n".join(lines)


def relative_targets(text):
    """The relative link and image targets of one Markdown text (no anchors, no web links)."""
    body = prose(text)
    for target in MD_LINK.findall(body) + HTML_REF.findall(body):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("#", "/")):
            continue
        target = target.split("#", 1)[0].split("?", 1)[0]
        if target:
            yield target


def source_page(rel):
    """The generated page (a Markdown path) of a source file's repository path."""
    return rel.with_name(rel.name + ".md")


def is_source(path):
    """A text file that gets a highlighted page: not Markdown, not an image, small, UTF-8."""
    if not path.is_file() or path.suffix == ".md" or path.suffix.lower() in IMAGE_SUFFIXES:
        return False
    if path.stat().st_size > SOURCE_PAGE_MAX:
        return False
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    return True


def relpath(target, start):
    """target relative to the folder start (both repository paths), with / separators."""
    import os
    return Path(os.path.relpath(target, start)).as_posix()


def resolve_name(name, md_rel, previous, repo):
    """A Files-table name as a repository path: beside the page, from the repository's root,
    or (a bare name) beside the previous name of the same cell. None when no file matches."""
    candidates = [md_rel.parent / name, Path(name)]
    if previous is not None and "/" not in name:
        candidates.insert(0, previous.parent / name)
    for cand in candidates:
        path = (repo / cand).resolve()
        try:
            rel = path.relative_to(repo.resolve())
        except ValueError:
            continue
        if path.is_file():
            return rel
    return None


def table_target(rel, repo):
    """What a Files-table name links to: a source file's generated page, else the file."""
    return source_page(rel) if is_source(repo / rel) else rel


def link_files_tables(text, md_rel, repo):
    """Rewrites the first column of every "Files" table: each `name` that is a source file
    becomes [`name`](name.md). Returns (text, entries), entries = [(name, repository path or
    None)] for every name of those columns."""
    out, entries, in_files, fenced = [], [], False, False
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            in_files = bool(FILES_HEADING.match(line))
        elif not fenced and in_files and line.lstrip().startswith("|"):
            cells = line.split("|")
            if len(cells) > 2 and not set(cells[1].strip()) <= set("-: "):
                previous = None

                def link(m):
                    nonlocal previous
                    rel = resolve_name(m.group(1), md_rel, previous, repo)
                    entries.append((m.group(1), rel))
                    if rel is None:
                        return m.group(0)
                    previous = rel
                    return f"[`{m.group(1)}`]({relpath(table_target(rel, repo), md_rel.parent)})"

                if cells[1].strip().lower() not in ("file", "files"):
                    cells[1] = CODE_SPAN.sub(link, cells[1])
                    line = "|".join(cells)
        out.append(line)
    return "".join(out), entries


def link_sources(text, md_rel, repo):
    """Rewrites Markdown links to source files (outside code) to their generated pages.
    Returns (text, set of repository paths linked)."""
    linked = set()

    def fix(m):
        target = m.group(1)
        plain = target.split("#", 1)[0]
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or not plain or plain.startswith("/"):
            return m.group(0)
        path = (repo / md_rel.parent / plain).resolve()
        try:
            rel = path.relative_to(repo.resolve())
        except ValueError:
            return m.group(0)
        if not is_source(path):
            return m.group(0)
        linked.add(rel)
        return m.group(0).replace(target, relpath(source_page(rel), md_rel.parent), 1)

    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            parts = re.split(r"(`[^`]*`)", line)
            line = "".join(p if p.startswith("`") else MD_LINK.sub(fix, p) for p in parts)
        out.append(line)
    return "".join(out), linked


def render_summaries(text):
    """Renders the Markdown inside each <summary>...</summary> (raw HTML to Python-Markdown)."""
    import markdown

    def render(m):
        html = markdown.markdown(m.group(1)).strip()
        html = re.sub(r"^<p>(.*)</p>$", r"\1", html, flags=re.DOTALL)
        return f"<summary>{html}</summary>"

    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = SUMMARY.sub(render, line)
        out.append(line)
    return "".join(out)


def write_source_page(docs, rel, repo, named_by):
    """docs/<rel>.md: the file's text in a fence Pygments highlights, a link to the raw file."""
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound
    text = (repo / rel).read_text(encoding="utf-8")
    try:
        lang = get_lexer_for_filename(rel.name, text).aliases[0]
    except (ClassNotFound, IndexError):
        lang = "text"
    if rel.name == "CMakeLists.txt":
        lang = "cmake"
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    back = ", ".join(f"[{nav_title(repo / m)}]({relpath(m, rel.parent)})"
                     for m in sorted(named_by))
    page = docs / source_page(rel)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"# {rel.as_posix()}\n\n"
                    f"Named by {back}. [The file as it is]({rel.name}).\n\n"
                    f"{fence} {lang}\n{text.rstrip()}\n{fence}\n", encoding="utf-8")


def lesson_readmes(root):
    """lessons/NN-*/README.md below root, in lesson order, each followed by the other
    Markdown pages of its folder (a lesson's second part, such as 05b), by name."""
    found = [p.relative_to(root) for p in (root / "lessons").glob("[0-9][0-9]-*/*.md")
             if not Path(p.stem).suffix]  # not a generated source page (counters.hpp.md)
    return sorted(found, key=lambda p: (p.parts[1], p.name != "README.md", p.name))


def nav_title(md_file):
    """A page's first heading as plain text for the nav (mkdocs would keep the backticks)."""
    for line in md_file.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].replace("`", "").strip()
    return md_file.parent.name


def expand_nav(nav, lessons, docs=None):
    out = []
    for entry in nav:
        if entry == LESSONS_MARKER:
            out.extend({nav_title(docs / p): p.as_posix()} if docs else p.as_posix()
                       for p in lessons)
        elif isinstance(entry, dict):
            out.append({k: expand_nav(v, lessons, docs) if isinstance(v, list) else v
                        for k, v in entry.items()})
        else:
            out.append(entry)
    return out


def stage(stage_dir, repo=REPO, config=CONFIG, site_dir=None):
    """Copies the Markdown and what it links to into stage_dir/docs, writes
    stage_dir/mkdocs.yml. Returns the config path."""
    import yaml  # python3-yaml, a dependency of mkdocs

    stage_dir = Path(stage_dir)
    docs = stage_dir / "docs"
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    docs.mkdir(parents=True)
    sources = {}    # repository path of a source file -> the Markdown pages that name it
    manifest = {}   # Markdown page -> [[name, source or null, generated page or null]]
    for rel in markdown_files(repo):
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        original = (repo / rel).read_text(encoding="utf-8")
        text, entries = link_files_tables(original, rel, repo)
        text, linked = link_sources(text, rel, repo)
        text = render_summaries(text)
        (docs / rel).write_text(text, encoding="utf-8")
        shutil.copystat(repo / rel, docs / rel)
        for src in linked | {e for _, e in entries if e is not None and is_source(repo / e)}:
            sources.setdefault(src, set()).add(rel)
        for _, src in entries:
            if src is not None and not is_source(repo / src):  # an image: linked as it is
                (docs / src).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(repo / src, docs / src)
        if entries:
            manifest[rel.as_posix()] = [
                [name, src.as_posix() if src else None,
                 table_target(src, repo).as_posix() if src else None]
                for name, src in entries]
        for target in relative_targets(original):
            src = (repo / rel.parent / target).resolve()
            try:
                dest_rel = src.relative_to(repo)
            except ValueError:
                continue  # outside the repository: docs_links_test reports it
            if src.is_file() and src.suffix != ".md":
                (docs / dest_rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, docs / dest_rel)
    for src, named_by in sources.items():
        if not (docs / src).exists():  # the raw file beside its page
            (docs / src).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / src, docs / src)
        write_source_page(docs, src, repo, named_by)
    (stage_dir / SOURCES_MANIFEST).write_text(json.dumps(
        {"pages": manifest, "sources": sorted(source_page(s).as_posix() for s in sources)},
        indent=1), encoding="utf-8")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    for name in settings.get("extra_css", []) + settings.get("extra_javascript", []):
        # the site's own stylesheets and scripts, beside the config
        shutil.copy2(Path(config).parent / name, docs / name)
    settings["docs_dir"] = str(docs)
    settings["site_dir"] = str(Path(site_dir) if site_dir else stage_dir / "site")
    settings["nav"] = expand_nav(settings.get("nav", []), lesson_readmes(docs), docs)
    out = stage_dir / "mkdocs.yml"
    out.write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True),
                   encoding="utf-8")
    return out


def build(stage_dir, site_dir, repo=REPO, strict=True, quiet=False):
    """Stages and builds; returns mkdocs's exit code."""
    cfg = stage(stage_dir, repo=repo, site_dir=site_dir)
    cmd = [sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(cfg)]
    if strict:
        cmd.append("--strict")
    if quiet:
        cmd.append("--quiet")
    rc = subprocess.run(cmd).returncode
    if rc == 0:
        drop_from_search(Path(site_dir), Path(stage_dir))
    return rc


def drop_from_search(site_dir, stage_dir):
    """Removes the generated source pages from the search index: search finds lessons."""
    index = site_dir / "search" / "search_index.json"
    if not index.is_file():
        return
    pages = json.loads((stage_dir / SOURCES_MANIFEST).read_text(encoding="utf-8"))["sources"]
    html = {str(Path(p).with_suffix(".html").as_posix()) for p in pages}
    data = json.loads(index.read_text(encoding="utf-8"))
    data["docs"] = [d for d in data["docs"] if d["location"].split("#", 1)[0] not in html]
    index.write_text(json.dumps(data), encoding="utf-8")


def serve(site_dir, port):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site_dir))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"site: serving {site_dir} on http://127.0.0.1:{server.server_address[1]}/ "
              "(Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="scripts/site.sh",
        description="Builds the lessons, docs and results of this repository into a static "
                    "site (build/site/, staged in build/site-src/), and optionally serves it "
                    "on 127.0.0.1. Needs Debian's mkdocs, mkdocs-material and "
                    "python3-pymdownx (scripts/setup.sh installs them).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  bash scripts/site.sh                    # build; open build/site/index.html\n"
               "  bash scripts/site.sh serve              # build, serve http://127.0.0.1:8000/\n"
               "  bash scripts/site.sh serve --port 8080  # another port\n"
               "Search works only when served (a browser runs it in a web worker).")
    ap.add_argument("command", nargs="?", choices=["build", "serve"], default="build",
                    help="build (default): build the site; serve: build it, then serve it")
    ap.add_argument("--port", type=int, default=8000,
                    help="port for serve, on 127.0.0.1 (default 8000)")
    ap.add_argument("--out", default=str(REPO / "build" / "site"),
                    help="where the site goes (default build/site)")
    ap.add_argument("--stage", default=str(REPO / "build" / "site-src"),
                    help="staging folder (default build/site-src)")
    ap.add_argument("--no-strict", action="store_true",
                    help="do not fail on mkdocs warnings (broken links)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return e.code
    if not 0 < args.port < 65536:
        print(f"site: bad port {args.port}", file=sys.stderr)
        return 2
    try:
        import mkdocs  # noqa: F401
        import material  # noqa: F401
        import pymdownx  # noqa: F401
    except ImportError as e:
        print(f"site: {e.name} is missing; run scripts/setup.sh (Debian packages mkdocs, "
              "mkdocs-material, python3-pymdownx)", file=sys.stderr)
        return 1
    rc = build(args.stage, args.out, strict=not args.no_strict)
    if rc != 0:
        print("site: mkdocs build failed", file=sys.stderr)
        return rc
    print(f"site: built {args.out}/index.html")
    if args.command == "serve":
        serve(args.out, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
