"""Restart-and-Run-All course notebooks, save them in place, then re-export course_lib.

Usage: python tools/rerun.py [notebooks/NN_name.ipynb ...]   (default: every notebook, in order)

This is what "save the notebook after one clean Restart-and-Run-All" means, as a command: each
notebook runs top to bottom in a fresh kernel (working directory notebooks/), execution counts come
out 1..n, and nbval can then compare the stored outputs. A cell may raise only if it is tagged
`raises-exception`. Per-cell timing metadata is not recorded, so re-running an unchanged notebook
changes only what really changed. Like export.py, it imports nothing from course_lib.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rerun(path: Path, timeout: int = 600) -> None:
    """Execute one notebook in a fresh kernel and save it (raises on an unexpected error)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    language_info = nb.metadata.get("language_info")
    client.execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _coalesce_streams(cell.outputs)
    if language_info is not None:  # the kernel's long form (patch version, lexer names) only adds diff noise
        nb.metadata["language_info"] = language_info
    nbformat.write(nb, path)


def _coalesce_streams(outputs: list) -> list:
    """One output per run of the same stream: a busy machine delivers one print's text in several messages."""
    merged = []
    for out in outputs:
        if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a).resolve() for a in args] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        print(f"running {path.relative_to(ROOT)} ...", flush=True)
        rerun(path)
        # later notebooks import what earlier ones export: export after each one
        subprocess.run([sys.executable, str(ROOT / "tools" / "export.py")], check=True, cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
