"""Turn the bytes of a text file into ``str`` without assuming UTF-8."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# What writers' files are really in, besides UTF: Chinese (GB18030 covers GBK/GB2312), Big5,
# Japanese, Korean, Cyrillic, and Western single-byte text. Restricting the candidates keeps
# the detector from choosing exotic code pages (hp_roman8, mac_*) for plain Western text.
_CANDIDATES = [
    "gb18030", "big5", "cp932", "euc_jp", "euc_kr", "cp949",
    "cp1251", "koi8_r", "cp1253", "cp1254", "cp1255", "cp1256", "cp1252", "latin_1",
]
_WESTERN = {"cp1252", "latin_1", "iso8859_15", "cp1254"}
# Text whose only high bytes are quotes and dashes decodes the same in cp1251 and cp1252;
# without a single Cyrillic letter it is Western text.
_CYRILLIC = {"cp1251", "koi8_r"}
_CYRILLIC_LETTER = re.compile("[\u0400-\u04ff]")


def detect_encoding(data: bytes, declared: str | None = None) -> str:
    """Name the encoding of ``data``: BOM first, then a declared one that decodes, then strict
    UTF-8, then statistical detection (GBK, Big5, Shift-JIS, cp1252, UTF-16 without BOM, ...).
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if declared:
        try:
            data.decode(declared)
            return codecs.lookup(declared).name
        except (LookupError, UnicodeDecodeError):
            pass
    sample = data[:200_000]
    nul_even, nul_odd = sample[0::2].count(0), sample[1::2].count(0)
    if len(sample) >= 4 and max(nul_even, nul_odd) > len(sample) // 6:
        # ASCII-range text in UTF-16 without a BOM: every other byte is NUL.
        return "utf-16-be" if nul_even > nul_odd else "utf-16-le"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    results = list(from_bytes(sample, cp_isolation=_CANDIDATES))
    if not results:
        return "cp1252"
    # Short CJK text often decodes cleanly in several code pages (GBK bytes are valid Big5 and
    # CP949 too). Among equally clean readings, take the code page writers use most, in the
    # order of _CANDIDATES.
    least_chaos = min(r.chaos for r in results)
    most_coherent = max(r.coherence for r in results if r.chaos <= least_chaos + 0.01)
    tied = [r for r in results
            if r.chaos <= least_chaos + 0.01 and r.coherence >= most_coherent - 0.01]
    best = min(tied, key=lambda r: _CANDIDATES.index(r.encoding)
               if r.encoding in _CANDIDATES else len(_CANDIDATES))
    if best.encoding in _WESTERN or (best.encoding in _CYRILLIC and not _CYRILLIC_LETTER.search(str(best))):
        # Single-byte Western text is statistically ambiguous between these code pages;
        # cp1252 is what Windows and most "Latin-1" files really are, and it maps the
        # 0x80-0x9F range to punctuation (curly quotes, dashes) instead of control codes.
        return "cp1252"
    return best.encoding


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode ``data`` with :func:`detect_encoding`; undecodable bytes become U+FFFD.

    >>> decode_text("北京是中华人民共和国的首都。".encode("gbk"))
    '北京是中华人民共和国的首都。'
    """
    encoding = detect_encoding(data, declared)
    text = data.decode(encoding, errors="replace")
    return text.lstrip("\ufeff")
