"""Rewrites one generated section of a Markdown file: the text between
<!-- NAME:begin --> and <!-- NAME:end -->, the markers kept. Shared by the bench/write_*.py
scripts so that each only makes its text."""


def write_section(doc_path, name, text):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = open(doc_path).read()
    if begin not in doc or end not in doc:
        raise SystemExit(f"{doc_path} has no {begin} ... {end} section")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(doc_path, "w") as f:
        f.write(f"{head}{begin}\n{text}\n{end}{tail}")
