#!/usr/bin/env bash
# site.sh: builds the lessons, docs and results into a static site (build/site/), or builds and
# serves it on 127.0.0.1. The work is done by docs/site/build_site.py with Debian's mkdocs.
#   bash scripts/site.sh              # build; open build/site/index.html
#   bash scripts/site.sh serve        # build, then serve on http://127.0.0.1:8000/
#   bash scripts/site.sh serve --port 8080
#   bash scripts/site.sh --help
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case " $* " in
  *" --help "*|*" -h "*) ;;
  *) bash "$here/setup.sh" ;;
esac
exec /usr/bin/python3 "$here/../docs/site/build_site.py" "$@"
