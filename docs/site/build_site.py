#!/usr/bin/python3
"""build_site.py: builds this repository's Markdown into a static site with mkdocs (Debian's mkdocs,
mkdocs-material and python3-pymdownx), and serves it on 127.0.0.1.

The staging folder mirrors the repository: every Markdown file keeps its path, and every file
a Markdown file links to (images, sources) is copied beside it at its own path. So a relative
link that works on GitHub works in the site. The configuration is docs/site/mkdocs.yml; its
nav entry "@lessons" becomes every lessons/NN-*/README.md that exists, in order, each followed
by the other Markdown pages of its folder (a lesson's second part, such as 05b).

Run it through scripts/site.sh (see --help there). Only Debian's python3, no pip.
"""

import argparse
import functools
import http.server
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


def lesson_readmes(root):
    """lessons/NN-*/README.md below root, in lesson order, each followed by the other
    Markdown pages of its folder (a lesson's second part, such as 05b), by name."""
    found = [p.relative_to(root) for p in (root / "lessons").glob("[0-9][0-9]-*/*.md")]
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
    for rel in markdown_files(repo):
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, docs / rel)
        for target in relative_targets((repo / rel).read_text(encoding="utf-8")):
            src = (repo / rel.parent / target).resolve()
            try:
                dest_rel = src.relative_to(repo)
            except ValueError:
                continue  # outside the repository: docs_links_test reports it
            if src.is_file() and src.suffix != ".md":
                (docs / dest_rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, docs / dest_rel)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    for name in settings.get("extra_css", []):  # the site's own stylesheets, beside the config
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
    return subprocess.run(cmd).returncode


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
