"""Sentence-level claim check: which words of the sources each sentence of a draft rests on.

``check(text, passages)`` splits a draft into sentences (English and Chinese), finds for each
the span of the passages that supports it best, checks its hard facts exactly (numbers,
percentages, quantities with units, quoted phrases, proper names, Latin terms in Chinese text
must appear in the supporting passage; ``1,000`` = ``1000``), and marks it ``supported``,
``partial`` (with what is missing: "42% is in no source") or ``unsupported``. Headings,
greetings, sign-offs and the composer's own framing lines are ``framing``: only their facts
are checked. Each finding says where it is (the sentence's span in the draft) and where its
support is (the passage, the span in the passage and in the stored document), like a
linter's alert, so the page can mark it and a test can assert it.

The draft's ``[n]`` markers are then rebuilt from the findings: whatever a model wrote, each
supported or partial sentence cites exactly the passage its support was found in.

The default scorer is model-free (the share of a sentence's content words found in a span);
any object with the :class:`Scorer` shape (an NLI cross-encoder, a connected model acting as a
judge) can replace it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Protocol, Sequence

from knowledge.chunking import split_sentences
from textkit.scripts import CJK_CLASS, CJK_RUN, cjk_bigrams, cjk_ratio
from knowledge.search import Passage

SUPPORTED, PARTIAL, UNSUPPORTED, FRAMING = "supported", "partial", "unsupported", "framing"
# Share of a sentence's content words found in one span (one or two source sentences) above
# which the span supports it; between the two it is partial. Set on hand-made cases
# (tests/test_grounding.py): verbatim and lightly edited sentences score 0.8-1.0, faithful
# paraphrases 0.6-0.8, a sentence on the same topic saying something else 0.2-0.45.
SUPPORT_THRESHOLD = 0.6
PARTIAL_THRESHOLD = 0.4

MARKER = re.compile(r"\s?\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_STOPWORDS = frozenset("""a an the and or but nor so yet of in on at to for from by with without into onto
upon about above below over under between among through during before after since until as than
then that this these those there here it its it's is are was were be been being am do does did
done have has had having will would shall should can could may might must not no yes if else
when where which who whom whose what why how all any both each few more most other some such
only own same very just also too again further once i me my we our us you your he him his she
her they them their one ones s t don now new many much often every even still may well like
get gets got make makes made use used uses using way ways""".split())
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
# Numbers with an optional unit; a unit is kept only when it is one of these (so "3 of" is 3).
_UNITS = {"%": "%", "percent": "%", "per cent": "%", "pc": "%", "ms": "ms", "millisecond": "ms",
          "milliseconds": "ms", "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
          "min": "min", "mins": "min", "minute": "min", "minutes": "min", "h": "h", "hr": "h",
          "hrs": "h", "hour": "h", "hours": "h", "day": "day", "days": "day", "week": "week",
          "weeks": "week", "month": "month", "months": "month", "year": "year", "years": "year",
          "km": "km", "m": "m", "cm": "cm", "mm": "mm", "kg": "kg", "g": "g", "mg": "mg",
          "lb": "lb", "lbs": "lb", "ft": "ft", "mph": "mph", "gb": "gb", "mb": "mb", "kb": "kb",
          "tb": "tb", "ghz": "ghz", "mhz": "mhz", "hz": "hz", "kw": "kw", "mw": "mw", "w": "w",
          "x": "x", "times": "x", "million": "million", "billion": "billion",
          "thousand": "thousand", "°c": "°c", "°f": "°f", "万": "万", "亿": "亿", "倍": "倍",
          "年": "年", "元": "元", "公里": "km", "米": "m", "千克": "kg", "公斤": "kg", "个": "个"}
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9_.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"
    r"(?:\s?(%|per ?cent|°[CF]|万|亿|倍|年|元|公里|千克|公斤|米|个|[A-Za-z]+\b))?")
_QUOTED = re.compile(r"[\"“]([^\"“”]{3,80})[\"”]|[「『《]([^」』》]{2,40})[」』》]")
_NAME = re.compile(r"(?<![\w'’])([A-Z][\w&'’.-]*[A-Za-z0-9](?:\s+(?:of |de |van |von )?[A-Z][\w&'’-]*[A-Za-z0-9])*)")
# Sentence-initial words are capitalised anyway: one counts as a name unless it has the shape
# of an ordinary word (a suffix like these, or a pronoun-like stopword). A few ordinary words
# get checked as names: the check errs towards "partial", never towards passing a wrong name.
_COMMON_SHAPE = re.compile(r"(?:ing|ly|tion|sion|ment|ness|ity|ed|es|al|ive|ous|ful|less|able|ible|ance|ence|ers?|ic|ics|s)$")
_LATIN_TERM = re.compile(r"[A-Za-z][A-Za-z0-9+#.\-]*[A-Za-z0-9+#]|[A-Za-z]")
_GREETING = re.compile(r"^(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening))\b[^.!?]{0,40}[,!:]?$"
                       r"|^(?:best|kind|warm)? ?(?:regards|wishes|thanks|thank you|cheers|sincerely|yours)\b.{0,40}$"
                       r"|^(?:subject|主题)\s*[:：]|^#\w|^(?:您好|大家好|你好|各位)[^。！？]{0,20}[,，:：!！]?$"
                       r"|^(?:此致|敬礼|谢谢|祝好)[^。]{0,20}$", re.I)


@dataclass(frozen=True)
class Finding:
    """What the check found for one sentence of a draft."""

    sentence: int  # index among the draft's sentences
    start: int  # the sentence's span in the checked draft (markers excluded)
    end: int
    text: str
    status: str  # supported | partial | unsupported | framing
    score: float  # share of its content words found in the support (0..1)
    passage: int | None = None  # 1-based number of the supporting passage
    support: str = ""  # the supporting words
    support_start: int = 0  # the support's span in the passage's text
    support_end: int = 0
    document_start: int | None = None  # the support's span in the stored document
    document_end: int | None = None
    missing: tuple[str, ...] = ()  # hard facts the support lacks
    message: str = ""  # what a writer reads in the tooltip

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GroundingReport:
    text: str  # the draft with exact [n] markers
    findings: tuple[Finding, ...]
    cited: tuple[int, ...]  # passage numbers cited
    uncited: tuple[int, ...]
    passages: int = 0  # how many passages the draft had
    flags: tuple[str, ...] = field(default=())  # set by the pipeline: echo, wrong_language, ...

    @property
    def claims(self) -> list[Finding]:
        return [f for f in self.findings if f.status != FRAMING]

    def count(self, status: str) -> int:
        return sum(1 for f in self.findings if f.status == status)

    @property
    def facts_in_no_source(self) -> list[str]:
        return [m for f in self.findings for m in f.missing if "in no source" in f.message]

    @property
    def support_rate(self) -> float:
        claims = self.claims
        return sum(f.status == SUPPORTED for f in claims) / len(claims) if claims else 0.0

    @property
    def grounded(self) -> bool:
        """At least half of the draft's claims (and at least one) rest, wholly or partly, on a
        source; a draft below that is reported as not resting on its sources."""
        resting = sum(f.status in (SUPPORTED, PARTIAL) for f in self.claims)
        return resting >= 1 and resting >= len(self.claims) / 2


class Scorer(Protocol):
    def __call__(self, sentence: str, spans: Sequence[str]) -> list[float]:
        """How well each of ``spans`` supports ``sentence``, each in 0..1."""


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters become ASCII), curly quotes straight, spaces single."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return " ".join(text.split())


def _stem(word: str) -> str:
    # Truncation stemming: the first five letters. Crude, but it matches "request"/"requests"
    # and "serve"/"service" without a dictionary, and a checker errs towards "partial" anyway.
    return word[:5]


def content_terms(text: str) -> list[str]:
    """The words a claim is made of: stems of non-stopwords, and CJK character bigrams.

    >>> content_terms("The requests were served in 42 ms")
    ['reque', 'serve', '42', 'ms']
    >>> content_terms("模型训练")
    ['模型', '型训', '训练']
    """
    text = normalise(text).lower()
    terms: list[str] = []
    for run in re.split(f"([{CJK_CLASS}]+)", text):
        if not run:
            continue
        if CJK_RUN.fullmatch(run):
            terms += cjk_bigrams(run)
        else:
            terms += [_stem(w) for w in _WORD.findall(run.replace("'", "'"))
                      if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return terms


@functools.lru_cache(maxsize=8192)
def _term_set(text: str) -> frozenset[str]:
    # a check scores every sentence against the same spans: tokenise each span once
    return frozenset(content_terms(text))


def lexical_scorer(sentence: str, spans: Sequence[str]) -> list[float]:
    """Share of ``sentence``'s distinct content terms that occur in each span (model-free)."""
    wanted = _term_set(sentence)
    if not wanted:
        return [0.0 for _ in spans]
    return [len(wanted & _term_set(span)) / len(wanted) for span in spans]


class CrossEncoderJudge:
    """A cross-encoder as the judge instead of word overlap: an NLI model (the probability of
    "entailment", premise = the span, hypothesis = the sentence) or a one-logit relevance model
    (its sigmoid). ``model`` is a local sentence-transformers CrossEncoder folder; loaded on
    first use. Hard facts are still checked exactly, whatever the judge says."""

    def __init__(self, model: str, *, device: str | None = None):
        self.model_id = model
        self._device = device
        self._model = None
        self._entailment: int | None = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import CrossEncoder

            model = CrossEncoder(self.model_id, device=self._device or "cpu")
            labels = {i: label.lower() for i, label in (model.config.id2label or {}).items()}
            entail = [i for i, label in labels.items() if label.startswith("entail")]
            self._entailment = entail[0] if entail and len(labels) > 1 else None
            self._model = model
        return self._model

    def __call__(self, sentence: str, spans: Sequence[str]) -> list[float]:
        if not spans:
            return []
        import numpy as np

        model = self._load()
        if self._entailment is None:
            return [float(x) for x in np.ravel(model.predict([(span, sentence) for span in spans],
                                                              activation_fn=_sigmoid()))]
        logits = np.asarray(model.predict([(span, sentence) for span in spans], activation_fn=_identity()))
        logits = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return [float(p) for p in probabilities[:, self._entailment]]


def _sigmoid():
    import torch

    return torch.nn.Sigmoid()


def _identity():
    import torch

    return torch.nn.Identity()


# --- hard facts ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    kind: str  # number | quote | name | term
    shown: str  # as written in the draft
    key: str  # normalised form looked up in sources


def hard_facts(sentence: str, *, sentence_start_word: bool = True) -> list[Fact]:
    """The facts of ``sentence`` that must appear in its source exactly.

    >>> [f.key for f in hard_facts("Traffic grew 42% to 1,000 requests at Google in 2019.")]
    ['42%', '1000', '2019', 'google']
    """
    text = normalise(sentence)
    facts: list[Fact] = []
    for match in _NUMBER.finditer(text):
        whole, decimals, unit = match.group(1).replace(",", ""), match.group(2), match.group(3)
        number = whole + ("." + decimals.rstrip("0") if decimals and decimals.rstrip("0") else "")
        unit_key = _UNITS.get((unit or "").lower().replace(" ", ""), _UNITS.get((unit or "").lower()))
        shown = match.group(0) if unit_key else match.group(1) + (f".{decimals}" if decimals else "")
        facts.append(Fact("number", shown.strip(), number + (unit_key or "")))
    for match in _QUOTED.finditer(text):
        phrase = match.group(1) or match.group(2)
        facts.append(Fact("quote", phrase, normalise(phrase).lower()))
    if cjk_ratio(text) > 0.3:
        for match in _LATIN_TERM.finditer(text):
            if len(match.group()) > 1 and match.group().lower() not in _STOPWORDS:
                facts.append(Fact("term", match.group(), match.group().lower()))
    else:
        first_word = re.match(r"\W*([\w'-]+)", text)
        for match in _NAME.finditer(text):
            name = re.sub(r"['’]s$", "", match.group(1)).rstrip(".")
            if first_word and match.start() == first_word.start(1) and " " not in name \
                    and _COMMON_SHAPE.search(name.lower()):
                continue  # a capitalised first word that looks like an ordinary word
            if name.lower() in _STOPWORDS or name in ("I",) or len(name) < 2:
                continue
            facts.append(Fact("name", name, name.lower()))
    unique = {}
    for fact in facts:
        unique.setdefault(fact.key, fact)
    return list(unique.values())


def _fact_in(fact: Fact, source: str, source_numbers: set[str]) -> bool:
    if fact.kind == "number":
        return fact.key in source_numbers
    return fact.key in source


def _numbers_of(text: str) -> set[str]:
    keys = set()
    for fact in hard_facts(text):
        if fact.kind == "number":
            keys.add(fact.key)
            keys.add(re.match(r"[\d.]+", fact.key).group())  # "42 ms" in a source backs a bare "42"
    return keys


# --- sentences of a draft -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    text: str
    framing: bool


_BLOCK_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+(?:\d{1,2}[.)]\s+)?|[-*+•]\s+|\d{1,2}[.)]\s+|>\s+)?")


def draft_sentences(text: str, framing: frozenset[str] = frozenset()) -> list[_Sentence]:
    """The sentences of a Markdown draft (markers stripped beforehand), each line on its own:
    headings, list items and paragraphs; a heading or greeting line is framing."""
    sentences: list[_Sentence] = []
    offset = 0
    for line in text.split("\n"):
        prefix = _BLOCK_PREFIX.match(line).end()
        body = line[prefix:]
        is_heading = line.lstrip().startswith("#") or (body.startswith("**") and body.rstrip().endswith("**"))
        for s, e in split_sentences(body):
            piece = body[s:e]
            plain = piece.strip("*_ ")
            if not plain or not re.search(r"\w", plain):
                continue
            framing_line = (is_heading or bool(_GREETING.match(plain)) or len(content_terms(plain)) < 2
                            or any(normalise(plain) in line for line in framing))
            sentences.append(_Sentence(offset + prefix + s, offset + prefix + e, piece, framing_line))
        offset += len(line) + 1
    return sentences


def _passage_spans(passage: Passage) -> list[tuple[int, int]]:
    """Candidate supports in a passage: each sentence, and each pair of neighbours."""
    sentences = split_sentences(passage.text)
    spans = list(sentences)
    spans += [(a[0], b[1]) for a, b in zip(sentences, sentences[1:])]
    return spans or [(0, len(passage.text))]


def check(text: str, passages: Sequence[Passage], *, scorer: Scorer = lexical_scorer,
          framing: frozenset[str] | set[str] = frozenset()) -> GroundingReport:
    """Check every sentence of ``text`` against ``passages`` (numbered 1..) and re-mark it.

    ``framing``: sentences the composer wrote as framing (an introduction from a template);
    like headings, only their hard facts are checked.
    """
    plain = MARKER.sub("", text)
    framing = frozenset(normalise(f) for f in framing)
    candidates = [(n, s, e) for n, p in enumerate(passages, start=1) for s, e in _passage_spans(p)]
    span_texts = [passages[n - 1].text[s:e] for n, s, e in candidates]
    normalised_passages = [normalise(p.text).lower() for p in passages]
    passage_numbers = [_numbers_of(p.text) for p in passages]
    findings: list[Finding] = []
    for index, sentence in enumerate(draft_sentences(plain, framing)):
        facts = hard_facts(sentence.text)
        if sentence.framing:  # a heading or greeting names people and things; its figures must hold
            facts = [f for f in facts if f.kind in ("number", "quote")]
        scores = scorer(sentence.text, span_texts) if candidates and not sentence.framing else []
        best = max(range(len(scores)), key=lambda i: (scores[i], -len(span_texts[i]))) if scores else None
        score = scores[best] if best is not None else 0.0
        passage_n = candidates[best][0] if best is not None and score > 0 else None
        missing, messages = [], []
        for fact in facts:
            if passage_n is not None and _fact_in(fact, normalised_passages[passage_n - 1],
                                                  passage_numbers[passage_n - 1]):
                continue
            elsewhere = [n for n in range(1, len(passages) + 1)
                         if _fact_in(fact, normalised_passages[n - 1], passage_numbers[n - 1])]
            if sentence.framing and elsewhere:
                continue
            missing.append(fact.shown)
            messages.append(f"{fact.shown} is in no source" if not elsewhere else
                            f"{fact.shown} is not in the supporting passage [{passage_n}] "
                            f"(it is in [{elsewhere[0]}])")
        if sentence.framing:
            status = PARTIAL if missing else FRAMING
            passage_n = None
        elif score >= SUPPORT_THRESHOLD and not missing:
            status = SUPPORTED
        elif score >= PARTIAL_THRESHOLD:
            status = PARTIAL
        else:
            status = UNSUPPORTED
            passage_n = None
        if status == PARTIAL and not messages:
            messages.append(f"only {round(score * 100)}% of its words are in the source")
        if status == UNSUPPORTED:
            messages.insert(0, "no passage supports this sentence")
        finding = Finding(index, sentence.start, sentence.end, sentence.text, status, round(score, 3),
                          missing=tuple(missing), message="; ".join(messages))
        if passage_n is not None:
            n, s, e = candidates[best]
            p = passages[n - 1]
            finding = _with_support(finding, n, p, s, e)
        findings.append(finding)
    return _remark(plain, findings, len(passages))


def _with_support(finding: Finding, n: int, passage: Passage, start: int, end: int) -> Finding:
    from dataclasses import replace

    return replace(finding, passage=n, support=passage.text[start:end], support_start=start,
                   support_end=end, document_start=passage.char_start + start,
                   document_end=passage.char_start + end)


def _remark(plain: str, findings: list[Finding], passage_count: int) -> GroundingReport:
    """Put one exact ``[n]`` after each sentence that rests on passage n; shift spans to match."""
    from dataclasses import replace

    pieces, moved, position, shift = [], [], 0, 0
    for f in findings:
        pieces.append(plain[position:f.end])
        position = f.end
        moved.append(replace(f, start=f.start + shift, end=f.end + shift))
        if f.passage is not None:
            marker = f" [{f.passage}]"
            pieces.append(marker)
            shift += len(marker)
    pieces.append(plain[position:])
    cited = sorted({f.passage for f in findings if f.passage is not None})
    return GroundingReport("".join(pieces), tuple(moved), tuple(cited),
                           tuple(n for n in range(1, passage_count + 1) if n not in cited),
                           passage_count)


def summary(report: GroundingReport) -> str:
    """One line a writer reads under a draft, e.g. "17 of 19 sentences supported; 1 number in
    no source"."""
    claims = report.claims
    line = f"{report.count(SUPPORTED)} of {len(claims)} sentences supported"
    partial, unsupported = report.count(PARTIAL), report.count(UNSUPPORTED)
    if partial:
        line += f"; {partial} partly"
    if unsupported:
        line += f"; {unsupported} with no source"
    absent = report.facts_in_no_source
    if absent:
        line += f"; {len(absent)} fact{'s' if len(absent) != 1 else ''} in no source ({', '.join(absent[:3])})"
    return line
