#!/usr/bin/env python3
"""Reads hey's text report and prints one JSON line: requests/s, latency percentiles,
status counts. Usage: parse_hey.py REPORT NAME CONCURRENCY"""
import json
import re
import sys

text = open(sys.argv[1]).read()
row = {"name": sys.argv[2], "concurrency": int(sys.argv[3])}
m = re.search(r"Requests/sec:\s+([\d.]+)", text)
row["rps"] = float(m.group(1)) if m else 0.0
for pct in ("50", "90", "99"):
    m = re.search(rf"\s{pct}% in ([\d.]+) secs", text)
    row[f"p{pct}_ms"] = float(m.group(1)) * 1000 if m else None
row["status"] = {code: int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", text)}
row["errors"] = 0
if "Error distribution:" in text:
    for line in text.split("Error distribution:")[1].splitlines():
        m = re.match(r"\s+\[(\d+)\]", line)
        if m:
            row["errors"] += int(m.group(1))
print(json.dumps(row))
