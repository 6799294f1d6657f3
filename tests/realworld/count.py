#!/usr/bin/env python3
"""Counts the real-world corpus from README.md's per-pipeline tables.

For every `### NAME` table it counts the rows judged native / awkward / missing in each column
(v1, after #13, after #14), checks them against the table's `**total (N)**` row, and prints the
Summary table's rows, the corpus line and the GitHub and GitLab totals, computed, to paste into
README.md.

Usage: python3 tests/realworld/count.py [--check] [README]
  --check   also compare with the Summary table written in README.md; exit 1 on any difference
Exit 1 when a table's rows and its total row disagree.
"""

import os
import re
import sys

VERDICTS = ("native", "awkward", "missing")
COLUMNS = ("v1", "after #13", "after #14")


def cells(line):
    """The cells of a Markdown table row; `\\|`, and a `|` inside a code span, stay in a cell."""
    parts, cell, code, escaped = [], "", False, False
    for char in line.strip():
        if char == "|" and not code and not escaped:
            parts.append(cell)
            cell = ""
        else:
            cell += char
        if char == "`":
            code = not code
        escaped = char == "\\" and not escaped
    parts.append(cell)
    return [p.strip() for p in parts[1:-1]]


def pct(part, whole):
    # Python's round() rounds halves to even (62.5 -> 62, 37.5 -> 38), as the README does.
    return round(100 * part / whole)


def read_tables(text):
    """{name: {"system": ..., "rows": [...], "total": [...] or None}} in README order."""
    tables = {}
    name = None
    system = None
    for line in text.splitlines():
        heading = re.match(r"^### (\S+)\s*$", line)
        if heading:
            name = heading.group(1)
            system = None
            tables[name] = {"system": None, "rows": [], "total": None}
            continue
        if line.startswith("## "):
            name = None
            continue
        if name is None:
            continue
        if system is None and not line.startswith("|"):
            if "GitLab CI" in line:
                system = tables[name]["system"] = "GitLab"
            elif "GitHub Actions" in line:
                system = tables[name]["system"] = "GitHub"
        if not line.startswith("|"):
            continue
        row = cells(line)
        if len(row) < 4 or row[0] in ("construct",) or set(row[0]) <= set("-: "):
            continue
        if row[0].startswith("**total"):
            tables[name]["total"] = row
        else:
            tables[name]["rows"].append(row)
    return tables


def count(rows):
    """[(native, awkward, missing)] per column."""
    out = []
    for column in range(1, 4):
        verdicts = [row[column] for row in rows]
        for verdict in verdicts:
            if verdict not in VERDICTS:
                raise ValueError(f"`{verdict}` is not native, awkward or missing")
        out.append(tuple(verdicts.count(v) for v in VERDICTS))
    return out


def total_cell(counts, whole):
    native, awkward, missing = counts
    return f"{native}/{whole} native ({pct(native, whole)} %), {awkward} awkward, {missing} missing"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    readme = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")
    text = open(readme, encoding="utf-8").read()
    tables = read_tables(text)
    problems = []
    summary = {}
    for name, table in tables.items():
        rows = table["rows"]
        whole = len(rows)
        try:
            counts = count(rows)
        except ValueError as e:
            problems.append(f"{name}: {e}")
            continue
        expected_total = [f"**total ({whole})**"] + [total_cell(c, whole) for c in counts]
        if table["total"] is None:
            problems.append(f"{name}: no `**total (N)**` row")
        elif table["total"][:4] != expected_total:
            problems.append(
                f"{name}: the total row says\n    | {' | '.join(table['total'][:4])} |\n"
                f"  its {whole} rows count\n    | {' | '.join(expected_total)} |"
            )
        summary[name] = (table["system"] or "?", whole, counts)

    print("| pipeline | system | constructs | native, v1 | after #13 | after #14 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, (system, whole, counts) in summary.items():
        print(f"| {name} | {system} | {whole} | " + " | ".join(f"{pct(c[0], whole)} %" for c in counts) + " |")
    whole = sum(s[1] for s in summary.values())
    sums = [tuple(sum(s[2][col][k] for s in summary.values()) for k in range(3)) for col in range(3)]
    corpus = f"| **corpus** | | **{whole}** | **{pct(sums[0][0], whole)} %** ({sums[0][0]} native, {sums[0][1]} awkward, {sums[0][2]} missing) | "
    corpus += " | ".join(f"**{pct(s[0], whole)} %** ({s[0]}, {s[1]}, {s[2]})" for s in sums[1:]) + " |"
    print(corpus)
    print()
    for system in ("GitHub", "GitLab"):
        part = [s for s in summary.values() if s[0] == system]
        n = sum(s[1] for s in part)
        native = sum(s[2][2][0] for s in part)
        if n:
            print(f"{system}: {len(part)} pipelines, after #14 {native} of {n} native ({pct(native, n)} %)")
    native, awkward, missing = sums[2]
    print(f"corpus after #14: {native} of {whole} native ({pct(native, whole)} %), {awkward} awkward, {missing} missing")

    if check:
        written = [line for line in text.splitlines() if line.startswith("| ")]
        computed = [f"| {name} | {s[0]} | {s[1]} | " + " | ".join(f"{pct(c[0], s[1])} %" for c in s[2]) + " |"
                    for name, s in summary.items()] + [corpus]
        for line in computed:
            if line not in written:
                problems.append(f"the Summary table lacks the computed row\n    {line}")
    for problem in problems:
        print(f"count.py: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
