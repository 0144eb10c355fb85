"""files: generated files are replaced whole, and the ones an earlier run made but this run did
not are removed, without touching anything else in the directory.

    MANIFEST_NAME    - the file, in each output directory, that lists what the report wrote there
    write_text       - write a text file atomically (temporary file + rename)
    replace_outputs  - remove the previous run's files that this run did not write; list the new

A manifest (rather than "delete every *.svg") keeps a file a person put there by hand, and
still removes a figure of a table that a later run no longer has.
"""

import os

MANIFEST_NAME = ".make_report-files"


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def _read_manifest(directory):
    path = os.path.join(directory, MANIFEST_NAME)
    try:
        with open(path, encoding="utf-8") as f:
            names = [line.strip() for line in f]
    except FileNotFoundError:
        return []
    # Only plain names in this directory: a manifest cannot make us delete elsewhere.
    return [n for n in names if n and os.path.basename(n) == n and n not in (".", "..")]


def replace_outputs(directory, written_paths):
    """Removes files listed by the previous manifest and not written now; writes the new one.

    Returns the list of removed file names.
    """
    now = sorted({os.path.basename(p) for p in written_paths})
    removed = []
    for name in _read_manifest(directory):
        if name in now or name == MANIFEST_NAME:
            continue
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            os.remove(path)
            removed.append(name)
    write_text(os.path.join(directory, MANIFEST_NAME),
               "".join(n + "\n" for n in now))
    return removed
