"""Main-text extraction from HTML, scored against Mozilla Readability's expected outputs.

    python -m bench.html_main_text --pages PATH/readability/test/test-pages [--extractor all]

Each test page folder holds a real page (``source.html``) and the article text Readability keeps
(``expected.html``). For every page and extractor this scores the extracted text against the
expected text as bags of words (CJK characters count one each): precision (how much of what
was kept is article), recall (how much of the article was kept) and F1, then prints the means
and the pages each extractor does worst on. Extractors: ``inkstone`` (what
``knowledge.readers.read_html`` keeps: the text that is chunked and searched), ``rules`` (the
tag-and-class rules Inkstone used before, now its fallback) and ``trafilatura`` (the library's
plain-text output with the options ``read_html`` uses: ``favor_precision``) and
``trafilatura-recall`` (its ``favor_recall`` mode, which scores a little higher here but turns a
short page into one run of text, menus included, so Inkstone does not use it).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter
from pathlib import Path

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+")


def tokens(text: str) -> Counter:
    return Counter(t.lower() for t in _TOKEN.findall(text))


def score(got: str, expected: str) -> tuple[float, float, float]:
    """Bag-of-words precision, recall and F1 of ``got`` against ``expected``.

    >>> score("the cat sat", "the cat sat down")
    (1.0, 0.75, 0.857)
    """
    g, e = tokens(got), tokens(expected)
    overlap = sum((g & e).values())
    p = overlap / max(sum(g.values()), 1)
    r = overlap / max(sum(e.values()), 1)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return round(p, 3), round(r, 3), round(f, 3)


def expected_text(path: Path) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_bytes(), "lxml").get_text(" ")


def inkstone_text(data: bytes, name: str) -> str:
    from knowledge.readers import read_html

    return "\n".join(b.text for b in read_html(data, name).blocks)


def rules_text(data: bytes, name: str) -> str:
    from bs4 import BeautifulSoup

    from knowledge.readers import _decode_text_file, _rule_based_blocks

    soup = BeautifulSoup(_decode_text_file(data, name), "lxml")
    return "\n".join(b.text for b in _rule_based_blocks(soup))


def trafilatura_text(data: bytes, name: str) -> str:
    import trafilatura

    return trafilatura.extract(data, include_comments=False, include_tables=True, favor_precision=True) or ""


def trafilatura_recall_text(data: bytes, name: str) -> str:
    import trafilatura

    return trafilatura.extract(data, include_comments=False, include_tables=True, favor_recall=True) or ""


EXTRACTORS = {"inkstone": inkstone_text, "rules": rules_text, "trafilatura": trafilatura_text,
              "trafilatura-recall": trafilatura_recall_text}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", required=True, type=Path,
                        help="Readability's test/test-pages folder")
    parser.add_argument("--extractor", default="all", choices=["all", *EXTRACTORS])
    parser.add_argument("--worst", type=int, default=5, help="show this many worst pages")
    args = parser.parse_args(argv)
    names = list(EXTRACTORS) if args.extractor == "all" else [args.extractor]
    pages = sorted(p for p in args.pages.iterdir() if (p / "source.html").exists()
                   and (p / "expected.html").exists())
    results: dict[str, list[tuple[str, tuple[float, float, float]]]] = {n: [] for n in names}
    seconds = dict.fromkeys(names, 0.0)
    for page in pages:
        data, expected = (page / "source.html").read_bytes(), expected_text(page / "expected.html")
        for name in names:
            began = time.perf_counter()
            try:
                got = EXTRACTORS[name](data, f"{page.name}.html")
            except Exception as exc:  # a page an extractor cannot read scores zero, visibly
                print(f"  {name} on {page.name}: {type(exc).__name__}: {exc}")
                got = ""
            seconds[name] += time.perf_counter() - began
            results[name].append((page.name, score(got, expected)))
    print(f"{len(pages)} pages from {args.pages}")
    print(f"{'extractor':<18} {'precision':>9} {'recall':>7} {'F1':>6} {'F1 median':>9} {'ms/page':>8}")
    for name in names:
        scores = [s for _, s in results[name]]
        p, r, f = (statistics.mean(s[i] for s in scores) for i in range(3))
        median = statistics.median(s[2] for s in scores)
        print(f"{name:<18} {p:>9.3f} {r:>7.3f} {f:>6.3f} {median:>9.3f} "
              f"{1000 * seconds[name] / len(pages):>8.0f}")
    for name in names:
        worst = sorted(results[name], key=lambda x: x[1][2])[: args.worst]
        print(f"worst for {name}: " + ", ".join(f"{page} (P {s[0]}, R {s[1]})" for page, s in worst))


if __name__ == "__main__":
    main()
