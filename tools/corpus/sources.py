"""Where the corpus comes from: Debian packages of free documentation and source.

Every item names the Debian package that owns it, so the licence of each part
of the corpus can be traced to that package's /usr/share/doc/<pkg>/copyright.
Standard library only.
"""
import glob
import os
import re
import subprocess

# Packages of HTML documentation the corpus script installs (see build_corpus.sh).
HTML_DOC_PACKAGES = ["python3.11-doc", "cmake-doc", "git-doc", "sqlite3-doc", "bash-doc", "glibc-doc"]
# Packages whose man pages are not wanted: third-party, not from Debian's
# archive, or thousands of near-identical generated pages.
EXCLUDED_MAN_PACKAGES = {"google-cloud-cli"}
MAN_SECTIONS = ["1", "2", "3", "4", "5", "7", "8"]
PYTHON_STDLIB = "/usr/lib/python3.11"
# Parts of the standard library that are test data or vendored copies.
_PY_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages",
                 "__pycache__", "lib2to3", "ensurepip", "config-3.11-x86_64-linux-gnu"}
_HTML_SKIP_NAMES = re.compile(r"(genindex|search|py-modindex|modindex|objects|index-\w+)\.html$")


def dpkg_owner_map():
    """Maps every file path installed by dpkg to its package name."""
    owners = {}
    for listing in glob.glob("/var/lib/dpkg/info/*.list"):
        package = os.path.basename(listing)[:-len(".list")].split(":")[0]
        with open(listing, encoding="utf-8", errors="replace") as f:
            for line in f:
                owners[line.rstrip("\n")] = package
    return owners


def archive_packages():
    """Names of the packages Debian's archive offers (from apt's lists)."""
    out = subprocess.run(["apt-cache", "pkgnames"], check=True, capture_output=True, text=True).stdout
    return set(out.split())


def html_doc_items(owners):
    """(kind, package, path) for each HTML page of the documentation packages."""
    items = []
    for package in HTML_DOC_PACKAGES:
        listing = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
        if listing.returncode != 0:
            raise SystemExit(f"corpus: package {package} is not installed (run build_corpus.sh)")
        for path in listing.stdout.split("\n"):
            if not path.endswith((".html", ".htm")) or "/_sources/" in path or "/_static/" in path:
                continue
            if _HTML_SKIP_NAMES.search(path) or not os.path.isfile(path):
                continue
            items.append(("html", package, path))
    return items


def man_page_items(owners, archive):
    """(kind, package, path) for English man pages of packages from Debian's archive."""
    items = []
    for section in MAN_SECTIONS:
        for path in sorted(glob.glob(f"/usr/share/man/man{section}/*")):
            real = os.path.realpath(path)
            package = owners.get(path) or owners.get(real)
            if package is None or package in EXCLUDED_MAN_PACKAGES or package not in archive:
                continue
            if os.path.islink(path) or not os.path.isfile(real):
                continue  # aliases (.so links) duplicate their target
            items.append(("man", package, path))
    return items


def python_source_items(owners):
    """(kind, package, path) for the Python standard library's own modules."""
    items = []
    for root, dirs, files in os.walk(PYTHON_STDLIB):
        dirs[:] = sorted(d for d in dirs if d not in _PY_SKIP_DIRS)
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith(".py") and path in owners:
                items.append(("python", owners[path], path))
    return items


def c_header_items(owners):
    """(kind, package, path) for the C library's headers (libc6-dev)."""
    return sorted(("c-header", pkg, path) for path, pkg in owners.items()
                  if pkg == "libc6-dev" and path.endswith(".h") and os.path.isfile(path))


def package_descriptions(translation_dir):
    """Yields (package, short description, long description) from copies of apt's
    English translation index (build_corpus.sh puts them in translation_dir)."""
    files = sorted(glob.glob(os.path.join(translation_dir, "Translation-en-*.txt")))
    if not files:
        raise SystemExit(f"corpus: no Translation-en-*.txt in {translation_dir} (build_corpus.sh copies "
                         "apt's English description index there)")
    seen = set()
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for record in text.split("\n\n"):
            package, short, long_lines = None, None, []
            for line in record.split("\n"):
                if line.startswith("Package: "):
                    package = line[len("Package: "):].strip()
                elif line.startswith("Description-en: "):
                    short = line[len("Description-en: "):].strip()
                elif line.startswith(" ") and short is not None:
                    body = line[1:]
                    long_lines.append("" if body.strip() == "." else body)
            if package and short and long_lines and package not in seen:
                seen.add(package)
                yield package, short, "\n".join(long_lines).strip()


def licence_of(package):
    """A one-line licence summary from /usr/share/doc/<package>/copyright."""
    path = f"/usr/share/doc/{package}/copyright"
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return "unknown (no copyright file)"
    # Machine-readable (DEP-5) files: the License: fields, most frequent first.
    # (Short names only: some free-form files also have "License:" lines of prose.)
    fields = [f for f in re.findall(r"^License:\s*(\S[^\n]*)", text, flags=re.M) if len(f.split()) <= 5]
    if fields:
        counts = {}
        for field in fields:
            counts[field.strip()] = counts.get(field.strip(), 0) + 1
        return ", ".join(sorted(counts, key=lambda k: -counts[k])[:4])
    # Free-form files: name the licences mentioned.
    known = [("GNU General Public License", "GPL"), ("GNU Lesser General Public", "LGPL"),
             ("GNU Free Documentation License", "GFDL"), ("Python Software Foundation", "PSF"),
             ("Apache License", "Apache"), ("BSD", "BSD"), ("MIT", "MIT"),
             ("public domain", "public domain")]
    found = [short for needle, short in known if needle.lower() in text.lower()]
    return ", ".join(found) if found else "see copyright file"
