#!/usr/bin/env bash
# diagrams.sh: renders every lessons/*/*.mmd (Mermaid source) to the .svg beside it, which is
# what the lessons show (on the site, in any Markdown viewer, offline). Run it after editing a
# .mmd file and commit both. Needs Node.js with @mermaid-js/mermaid-cli, installed once into
# build/diagram-tools (npm, no browser download), and Debian's chromium to draw with.
#   bash scripts/diagrams.sh            render every diagram
#   bash scripts/diagrams.sh --help
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
[[ $# -eq 0 ]] || { echo "diagrams.sh: unexpected argument '$1' (try --help)" >&2; exit 2; }
command -v chromium >/dev/null || { echo "diagrams.sh: needs Debian's chromium (bash scripts/setup.sh)" >&2; exit 1; }
tools=build/diagram-tools
if [[ ! -x $tools/node_modules/.bin/mmdc ]]; then
  echo "diagrams.sh: installing @mermaid-js/mermaid-cli into $tools (once)"
  mkdir -p "$tools"
  (cd "$tools" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund @mermaid-js/mermaid-cli >/dev/null)
fi
config=$tools/puppeteer.json
printf '%s\n' '{"executablePath":"/usr/bin/chromium","args":["--no-sandbox","--disable-gpu",' \
  '"--disable-background-networking","--disable-component-update","--disable-sync","--no-first-run"]}' > "$config"
shopt -s nullglob
for src in lessons/*/*.mmd; do
  echo "diagrams.sh: $src -> ${src%.mmd}.svg"
  "$tools/node_modules/.bin/mmdc" -q -p "$config" -b white -i "$src" -o "${src%.mmd}.svg"
done
