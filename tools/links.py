"""Launch links from one place: the repository URL in pyproject.toml's [project.urls] Repository.

Every link that names the course's GitHub location is generated from that URL:

- README.md: the Binder badge (opens notebook 00 in JupyterLab) and the "Open in Colab" badge (notebook 04);
- notebooks/04_gpu.ipynb: the "Open in Colab" badge at the top, and the first code cell's
  `pip install "course-lib @ git+https://github.com/OWNER/REPO"` (run only on Colab).

    python tools/links.py --check    list every link that disagrees with pyproject.toml (exit 1 if any)
    python tools/links.py --write    rewrite them from pyproject.toml (sources only; outputs are not touched)

tests/test_links.py runs the check. This is course tooling, not part of course_lib.
"""
import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (file, pattern of one generated link, what it should be). A pattern's `slug` group is OWNER/REPO.
BINDER = r"https://mybinder\.org/v2/gh/(?P<slug>[^/\s)]+/[^/\s)]+)/main\?urlpath=lab/tree/notebooks/00_tour\.ipynb"
COLAB_04 = r"https://colab\.research\.google\.com/github/(?P<slug>[^/\s)]+/[^/\s)]+)/blob/main/notebooks/04_gpu\.ipynb"
PIP = r"course-lib @ git\+https://github\.com/(?P<slug>[^/\s\"']+/[^/\s\"']+?)(?=[\"'])"

LINKS = {  # name: (file, pattern, template); each must occur in its file at least once
    "README Binder badge": ("README.md", BINDER,
                            "https://mybinder.org/v2/gh/{slug}/main?urlpath=lab/tree/notebooks/00_tour.ipynb"),
    "README Colab badge (04)": ("README.md", COLAB_04,
                                "https://colab.research.google.com/github/{slug}/blob/main/notebooks/04_gpu.ipynb"),
    "notebook 04 Colab badge": ("notebooks/04_gpu.ipynb", COLAB_04,
                                "https://colab.research.google.com/github/{slug}/blob/main/notebooks/04_gpu.ipynb"),
    "notebook 04 Colab install": ("notebooks/04_gpu.ipynb", PIP, "course-lib @ git+https://github.com/{slug}"),
}
# Any other link to a launch service or a git+ install, anywhere in these files, must also name the slug.
ANY = [r"https://mybinder\.org/v2/gh/(?P<slug>[^/\s)]+/[^/\s)]+)/",
       r"https://colab\.research\.google\.com/github/(?P<slug>[^/\s)]+/[^/\s)]+)/",
       r"git\+https://github\.com/(?P<slug>[^/\s\"']+/[^/\s\"'@#]+?)(?=[\"'@#\s]|\.git|$)"]
FILES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))]


def repository_url(root=ROOT):
    """[project.urls] Repository from pyproject.toml, e.g. 'https://github.com/OWNER/REPO'."""
    text = (Path(root) / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
        url = tomllib.loads(text)["project"]["urls"]["Repository"]
    except ImportError:  # Python 3.10: no tomllib; the line is simple enough to read directly
        url = re.search(r'^Repository\s*=\s*"([^"]+)"', text, re.M).group(1)
    m = re.fullmatch(r"https://github\.com/([^/\s]+/[^/\s]+?)/?", url)
    if not m:
        raise ValueError(f"pyproject.toml: [project.urls] Repository must be https://github.com/OWNER/REPO, not {url!r}")
    return url


def slug(root=ROOT):
    """'OWNER/REPO' from the repository URL."""
    return repository_url(root).rstrip("/").split("github.com/", 1)[1]


def _texts(path):
    """[(cell index or None, text)] of a file: a notebook's cell sources, or a text file's whole text."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return [(i, "".join(c["source"])) for i, c in enumerate(cells)]
    return [(None, path.read_text(encoding="utf-8"))]


def check(root=ROOT):
    """Every disagreement between the files' launch links and pyproject.toml, as readable lines ([] when none)."""
    root, want, problems = Path(root), slug(root), []
    for name, (rel, pattern, template) in LINKS.items():
        if not any(re.search(pattern, text) for _, text in _texts(root / rel)):
            problems.append(f"{rel}: the {name} is missing (expected {template.format(slug=want)})")
    for rel in FILES:
        if not (root / rel).exists():
            continue
        for cell, text in _texts(root / rel):
            for pattern in ANY:
                for m in re.finditer(pattern, text):
                    if m.group("slug") != want:
                        where = rel if cell is None else f"{rel} cell {cell}"
                        problems.append(f"{where}: {m.group(0)!r} names {m.group('slug')}, pyproject.toml says {want}")
    return problems


def write(root=ROOT):
    """Rewrite every launch link from pyproject.toml; return the files changed."""
    root, want, changed = Path(root), slug(root), []
    fix = lambda text: _fix(text, want)
    for rel in FILES:
        path = root / rel
        if not path.exists():
            continue
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            dirty = False
            for cell in nb["cells"]:
                old = "".join(cell["source"])
                new = fix(old)
                if new != old:
                    cell["source"] = new.splitlines(keepends=True)
                    dirty = True
            if dirty:
                with open(path, "w", encoding="utf-8") as f:  # the course's notebook format (see tools/nbedit)
                    json.dump(nb, f, indent=1, ensure_ascii=False)
                    f.write("\n")
                changed.append(rel)
        else:
            old = path.read_text(encoding="utf-8")
            new = fix(old)
            if new != old:
                path.write_text(new, encoding="utf-8")
                changed.append(rel)
    return changed


def _fix(text, want):
    for pattern in ANY:
        text = re.sub(pattern, lambda m: m.group(0).replace(m.group("slug"), want, 1), text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="report links that disagree with pyproject.toml")
    mode.add_argument("--write", action="store_true", help="rewrite the links from pyproject.toml")
    args = parser.parse_args(argv)
    if args.write:
        changed = write()
        print("rewrote:", ", ".join(changed) if changed else "nothing (all links already agree)")
    problems = check()
    for p in problems:
        print(p)
    if not problems:
        print(f"every launch link names {repository_url()}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
