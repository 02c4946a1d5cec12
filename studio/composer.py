"""Source-first composition: a draft made of the sources' own sentences, arranged by form.

A 135M model cannot carry six sources in one prompt; asked to, it drifts and echoes the
prompt. So the sources carry the content and the model only makes short, local, checkable
edits:

1. *select* the source sentences that answer the brief: relevance to the query (dense and
   lexical), coverage of its keywords, diversity (maximal marginal relevance), within the
   target length;
2. *arrange* them in the form's structure: a title, 2-6 sections (clusters of related
   sentences, in the document's order, headed by the document's own heading or a key
   phrase), bullets, or an email body;
3. *smooth*: the model rewrites one sentence at a time in the asked tone and writes a
   one-line introduction and close, each accepted only if it keeps the facts
   (:mod:`studio.grounding`), stays in the request's language and echoes no prompt;
   otherwise the source sentence stays (cleaned of reference marks like ``[12]``) and the
   framing comes from a template. Chinese drafts are composed from Chinese sources even when
   the model cannot write Chinese.

Every sentence knows its source sentence by construction, so its citation is exact.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Sequence

import numpy as np

from knowledge.chunking import split_sentences
from textkit.scripts import CJK_CHAR, CJK_CLASS, cjk_ratio
from knowledge.search import Passage
from studio.grounding import content_terms, hard_facts, lexical_scorer, normalise
from studio.errors import StudioError
from studio.hygiene import echoes, strip_scaffolding
from studio.understanding import Brief

Embed = Callable[[list[str]], np.ndarray]
# Weights of the relevance blend (dense cosine to the query, share of the query's terms, the
# passage's fused retrieval score). all-MiniLM-L6-v2 reads English only, so Chinese leans on
# the lexical signals.
WEIGHTS = {"en": (0.55, 0.25, 0.20), "zh": (0.15, 0.55, 0.30)}
# A model's edit of a sentence may stand only if nearly all its words come from the source
# sentence and it keeps most of the source's words; a framing line (introduction, close) only
# if most of its words come from the title, headings and chosen sentences. Set on SmolLM2's
# edits of real sentences: "In today's social media, the four golden signals ..." (73% from
# the source) must be refused; "Heads up: rising water can cut off a beach within 20 minutes on
# a flat coast!" (80%, every fact kept) may stand.
EDIT_COVERAGE, EDIT_RETENTION, FRAMING_COVERAGE = 0.8, 0.6, 0.6
# At most this many sentences of a draft are given to the model to rewrite in the asked tone
# (plus the introduction and close): each edit costs a second or more on a laptop CPU.
MAX_TONE_EDITS = 4
MMR_LAMBDA = 0.7  # relevance against novelty when picking the next sentence
DUPLICATE = 0.86  # cosine above which two sentences say the same thing
_REFERENCE_MARKS = re.compile(
    r"\s?\[(?:\d+(?:\s*[-–,]\s*\d+)*|citation needed|note \d+|[a-z])\]"
    r"|\s?\((?:see )?(?:fig(?:ure|\.)?|table|eq(?:uation|\.)?|section|chapter)\s*[\d.]+[a-z]?\)"
    r"|\s?\((?:see|discussed in|described in|as discussed in|cf\.)\s[^)]*\)"
    r"|[\u00b9\u00b2\u00b3\u2070-\u2079]+|\s?（(?:见)?图\s*\d+）|\*\*|__", re.I)
_STANDS_ALONE_NOT = re.compile(
    r"\b(?:fig(?:ure|\.)|table|listing|equation|chapter|section|appendix)\s+\d|^\s*(?:and|or|but|so|"
    r"also|however|thus|hence|therefore|moreover|furthermore|this|these|that|those|it|they|he|she|"
    r"here|such|similarly|likewise|instead|otherwise|then|again|still|yet|on the other hand|"
    r"in addition|for example|for instance|as (?:discussed|mentioned|noted|described|shown)|"
    r"in this case|as a result|in (?:that|this) (?:case|sense)|as such)\b|\s-\s.*\s-\s|"
    r"如图|见表|如下|上述|^(?:但|而|然而|不过|因此|所以|此外|另外|它|他们|这|那|也就是|即|从而|同时|并且|而且|其中|"
    r"此时|然后|接着|另一方面|总之|首先|其次|最后)", re.I)
FORM_WORDS = {"article": "article", "blog_post": "post", "outline": "outline", "summary": "summary",
              "email": "email", "social_post": "post", "product_description": "description",
              "free": "piece", "rewrite": "piece", "expand": "piece"}


@dataclass(frozen=True)
class SourceSentence:
    passage: int  # 1-based number of the passage it comes from
    start: int  # its span in the passage's text
    end: int
    text: str  # cleaned: reference marks out, whitespace single
    relevance: float = 0.0
    order: tuple = ()  # (document id, position in the document): reading order

    @property
    def key(self) -> str:
        return normalise(self.text).lower()


@dataclass
class Section:
    heading: str
    sentences: list[SourceSentence]


@dataclass
class Plan:
    title: str
    sections: list[Section]


@dataclass(frozen=True)
class Edit:
    """One short model edit, kept in history whether or not it was accepted."""

    task: str  # "tone" | "intro" | "close"
    prompt: str
    output: str
    accepted: bool
    reason: str = ""


# --- 1. select ------------------------------------------------------------------------------------

def _words(text: str, language: str) -> int:
    return len(CJK_CHAR.findall(text)) if language == "zh" else len(text.split())


def clean_sentence(text: str) -> str:
    """A source sentence as a draft shows it: reference marks out, whitespace single.

    >>> clean_sentence("Latency is the time to serve a request [12] (see Figure 3).")
    'Latency is the time to serve a request.'
    """
    text = _REFERENCE_MARKS.sub("", " ".join(text.split()))
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    text = re.sub(r"^[-*•·]\s+", "", text)
    # spaces left beside Chinese punctuation and characters (by removed ** marks, or a PDF's layout)
    text = re.sub(r"\s+(?=[，。；：！？、）」』])|(?<=[，。；：！？、（「『])\s+", "", text)
    text = re.sub(f"(?<=[{CJK_CLASS}])\\s+(?=[{CJK_CLASS}])", "", text)
    text = text.strip()
    # sources typed in lower case (old abstracts, chat notes) still start a sentence with a capital
    return text[:1].upper() + text[1:] if text[:1].islower() else text


_LIST_JOIN = re.compile(r"\n\s*(?:[-*+•]|\d{1,2}[.)])\s")
_TERM_LINE = re.compile(r"(?:^|\n)([^\n.!?:;。]{2,40})\n+$")


def _with_term(passage: Passage, start: int, text: str) -> tuple[int, str]:
    """A definition's term, when the sentence is a definition under a short term line
    ("Latency" / "The time it takes to service a request." -> "Latency: the time it takes ...")."""
    term = _TERM_LINE.search(passage.text[:start])
    heading = passage.headings.split(" > ")[-1].strip() if passage.headings else ""
    if not term or not re.match(r"(?:The|A|An|How|What|Any|Each|Every)\s", text):
        return start, text
    words = term.group(1).strip()
    if len(words.split()) > 5 or words == heading or words.startswith("#"):
        return start, text
    return passage.text.index(words, term.start(1)), f"{words}: {text[0].lower()}{text[1:]}"


def _usable(text: str, language: str) -> bool:
    """A sentence that can stand in a draft: whole, prose, of sensible length, not a fragment."""
    if language == "zh":
        size = len(CJK_CHAR.findall(text))
        if cjk_ratio(text) < 0.5 or not 10 <= size <= 120 or not re.search(r"[。；]$", text):
            return False
    else:
        words = text.split()
        if not 6 <= len(words) <= 60 or not re.search(r"[.][\"'”’)]?$", text):
            return False
        if not re.match(r"[\"'“‘(]?[A-Za-z0-9]", text) or cjk_ratio(text) > 0.3 or re.match(r"\d+[A-Z][a-z]", text):
            return False  # (a footnote's number glued to its first word, "22Sometimes ...")
        letters = sum(ch.isalpha() for ch in text)
        if letters < 0.6 * len(text) or text.count("|") > 1 or re.search(r"ttps?:|www\.|\.com\b|\*|\.\.\.|…", text):
            return False  # tables, links, footnote stars, quotes cut short
        if text.count('"') % 2 or text.count("(") != text.count(")"):
            return False  # a quotation or aside that the sentence split cut in two
    return not _STANDS_ALONE_NOT.search(text)


_ABBREVIATION = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|No|Fig|Vol|Co|Inc|Ltd|e\.g|i\.e))\.$")


def _whole_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, rejoined where the splitter cut after an abbreviation ("Norwich City
    F.C. | Hall of Fame", "Dr. | Smith")."""
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        if spans and _ABBREVIATION.search(text[spans[-1][0]:spans[-1][1]]):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def candidates(passages: Sequence[Passage], language: str) -> list[SourceSentence]:
    """The usable sentences of ``passages``, each once (chunks overlap), best passage first."""
    found: dict[str, SourceSentence] = {}
    for number, passage in enumerate(passages, start=1):
        for start, end in _whole_sentences(passage.text):
            if _LIST_JOIN.search(passage.text[start:end]):
                continue  # list items run together: no sentence a reader would recognise
            start, text = _with_term(passage, start, clean_sentence(passage.text[start:end]))
            if not _usable(text, language):
                continue
            sentence = SourceSentence(number, start, end, text,
                                      order=(passage.document_id, passage.char_start + start))
            found.setdefault(sentence.key, sentence)
    return list(found.values())


def select(brief: Brief, pool: list[SourceSentence], passages: Sequence[Passage], embed: Embed, *,
           target: int, exclude: set[str] = frozenset(), limit: int | None = None,
           seed: int | None = None) -> list[SourceSentence]:
    """Pick sentences by maximal marginal relevance until ``target`` words (Chinese: characters)
    or ``limit`` sentences; ``exclude``: keys of sentences already in the draft. A ``seed``
    nudges near-equal sentences (Regenerate picks others; one seed always picks the same)."""
    pool = [s for s in pool if s.key not in exclude]
    if not pool:
        return []
    language = "zh" if brief.language == "zh" else "en"
    w_dense, w_lexical, w_passage = WEIGHTS[language]
    vectors = embed([brief.query] + [s.text for s in pool])
    query, sentence_vectors = vectors[0], vectors[1:]
    dense = sentence_vectors @ query
    query_terms = brief.query + " " + " ".join(brief.keywords)
    lexical = np.array([lexical_scorer(query_terms, [s.text])[0] for s in pool])
    scores = [p.score for p in passages]
    low, high = min(scores), max(scores)
    passage_score = np.array([(passages[s.passage - 1].score - low) / (high - low) if high > low else 1.0
                              for s in pool])
    relevance = w_dense * dense + w_lexical * lexical + w_passage * passage_score
    if seed is not None:
        relevance = relevance + np.random.default_rng(seed).normal(0.0, 0.02, len(pool))
    similarity = sentence_vectors @ sentence_vectors.T
    if language == "zh":  # the English embedder cannot tell Chinese sentences apart: use bigrams
        similarity = np.array([[_overlap(a.text, b.text) for b in pool] for a in pool])
    chosen: list[int] = []
    words = 0
    while len(chosen) < len(pool) and (limit is None or len(chosen) < limit):
        best, best_value = None, -np.inf
        for i in range(len(pool)):
            if i in chosen:
                continue
            redundancy = max((similarity[i, j] for j in chosen), default=0.0)
            if redundancy >= DUPLICATE:
                continue
            value = MMR_LAMBDA * relevance[i] - (1 - MMR_LAMBDA) * redundancy
            if value > best_value:
                best, best_value = i, value
        if best is None:
            break
        size = _words(pool[best].text, language)
        if limit is None and chosen and words + size > target * 1.15:
            if words >= target * 0.8:
                break
            relevance[best] = -np.inf  # too long for what is left: try a shorter one
            if np.all(np.isinf(np.delete(relevance, chosen))):
                break
            continue
        chosen.append(best)
        words += size
        if limit is None and words >= target:
            break
    return [replace(pool[i], relevance=float(relevance[i])) for i in chosen]


def _overlap(a: str, b: str) -> float:
    x, y = set(content_terms(a)), set(content_terms(b))
    return len(x & y) / max(1, min(len(x), len(y)))


# --- 2. arrange -----------------------------------------------------------------------------------

def section_count(brief: Brief, sentences: int) -> int:
    if brief.form in ("social_post", "email", "summary", "product_description"):
        return 1 if brief.form != "summary" else max(1, min(3, round(sentences / 4)))
    if brief.paragraph_count:
        return max(1, min(brief.paragraph_count, sentences))
    if brief.bullet_count is not None and brief.form not in ("outline",):
        return 1
    return max(1, min(6, sentences // 2, max(2, round(sentences / 3))))


def arrange(brief: Brief, chosen: list[SourceSentence], passages: Sequence[Passage], embed: Embed) -> Plan:
    """Group ``chosen`` into sections of related sentences, in reading order, with headings."""
    title = make_title(brief)
    k = section_count(brief, len(chosen))
    groups = _cluster(chosen, passages, embed, k, brief.language)
    one_document = len({s.order[0] for s in chosen}) == 1
    for group in groups:
        group.sort(key=lambda s: s.order)
    groups.sort(key=(lambda g: g[0].order) if one_document else (lambda g: -max(s.relevance for s in g)))
    used: set[str] = {title.lower()}
    sections: list[Section] = []
    for group in groups:
        heading = _heading(group, passages, used, brief.language) if k > 1 else ""
        if heading is None and sections:
            # nothing names this group (no heading of its own, no phrase its sentences share):
            # it joins the section before it rather than standing under an invented heading
            sections[-1].sentences.extend(group)
            continue
        heading = heading or ""
        used.add(heading.lower())
        sections.append(Section(heading, group))
    if len(sections) > 1 and not sections[0].heading:
        sections[0].heading = _key_phrase([s.text for s in sections[0].sentences], used, brief.language, fallback=True)
    return Plan(title, sections)


def _cluster(chosen, passages, embed, k, language) -> list[list[SourceSentence]]:
    """Average-link agglomerative clustering down to ``k`` groups; sentences under the same
    document heading start closer together."""
    groups = [[s] for s in chosen]
    if len(groups) <= k:
        return groups
    if language == "zh":
        sim = np.array([[_overlap(a.text, b.text) for b in chosen] for a in chosen])
    else:
        vectors = embed([s.text for s in chosen])
        sim = vectors @ vectors.T
    heading_of = [passages[s.passage - 1].headings or str(passages[s.passage - 1].document_id) for s in chosen]
    sim = sim + 0.25 * np.array([[a == b for b in heading_of] for a in heading_of])
    members = [[i] for i in range(len(chosen))]
    while len(members) > k:
        best, pair = -np.inf, (0, 1)
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                # prefer merging small groups, so sections come out of similar size
                value = np.mean([sim[i, j] for i in members[a] for j in members[b]]) \
                    - 0.05 * (len(members[a]) + len(members[b]))
                if value > best:
                    best, pair = value, (a, b)
        a, b = pair
        members[a] += members.pop(b)
    return [[chosen[i] for i in group] for group in members]


def make_title(brief: Brief) -> str:
    """The draft's title from the request's topic: its first clause, at most eight words."""
    topic = re.split(r"[,;:?，；：？]|\s-\s", brief.query.strip())[0]
    topic = " ".join(topic.split()[:8]).strip(" .?!")
    topic = re.sub(r"(?:\s+(?:in|on|at|for|with|about|of|and|or|to|as|by|the|a|an))+$", "", topic, flags=re.I)
    if brief.language == "zh" or cjk_ratio(topic) > 0.3:
        return topic
    small = {"a", "an", "the", "and", "or", "of", "in", "on", "for", "to", "with", "at", "by"}
    words = topic.split()
    return " ".join(w if (i and w.lower() in small) or not w.islower() else w.capitalize()
                    for i, w in enumerate(words))


def _heading(group, passages, used: set[str], language: str) -> str | None:
    """The document heading the group's sentences share, else a phrase they share, else None."""
    headings = Counter(passages[s.passage - 1].headings.split(" > ")[-1].strip()
                       for s in group if passages[s.passage - 1].headings)
    for heading, _ in headings.most_common():
        heading = clean_sentence(heading.lstrip("#").strip()).rstrip(" .。")
        if heading and heading.lower() not in used and len(heading) <= 80:
            return heading
    return _key_phrase([s.text for s in group], used, language)


def _key_phrase(texts: list[str], used: set[str], language: str, *, fallback: bool = False) -> str | None:
    """A phrase the sentences share, for a section heading: the longest, most repeated n-gram
    without function words (Chinese), or a shared two-word phrase, else shared words (English)."""
    taken = " ".join(used)
    if language == "zh":
        counts, first = Counter(), {}
        joined = "\n".join(texts)
        for text in texts:
            for size in (4, 3, 2):
                for run in re.findall(f"[{CJK_CLASS}]{{{size},}}", text):
                    grams = {run[i:i + size] for i in range(len(run) - size + 1)}
                    counts.update(g for g in grams if not _ZH_FUNCTION.search(g)
                                  and g[-1] not in _ZH_BOUND_END and g[0] not in _ZH_BOUND_START)
        # most text covered first; among equals, the phrase met first in reading order
        ranked = sorted((-n * len(p), joined.find(p), p) for p, n in counts.items() if n >= 2 and p not in taken)
        if ranked:
            return ranked[0][2]
        return "要点" if fallback else None
    shown: dict[str, str] = {}
    pairs, words = Counter(), Counter()
    for text in texts:
        tokens = re.findall(r"[A-Za-z][A-Za-z'-]+", text)
        seen_pairs, seen_words = set(), set()
        for a, b in zip(tokens, tokens[1:]):
            if a.lower() not in _STOP and b.lower() not in _STOP and len(a) > 2 and len(b) > 2:
                key = f"{a.lower()} {b.lower()}"
                shown.setdefault(key, f"{a} {b}")
                seen_pairs.add(key)
        for w in tokens:
            if w.lower() not in _STOP and len(w) > 3:
                shown.setdefault(w.lower(), w)
                seen_words.add(w.lower())
        pairs.update(seen_pairs)
        words.update(seen_words)
    for key, n in pairs.most_common():
        if n >= 2 and key not in taken:
            return _capital(shown[key])
    picked = [w for w, n in words.most_common() if n >= 2 and w not in taken][:1]
    if not picked and fallback:
        picked = [w for w, _ in words.most_common() if w not in taken][:1]
    if not picked:
        return "More" if fallback else None
    return _capital(shown[picked[0]])


def _capital(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]


# Characters that rarely end (or start) a Chinese word: an n-gram ending in one is cut mid-phrase.
_ZH_BOUND_END = set("来去地得着过们上下里把被从向对给让使将")
_ZH_BOUND_START = set("地得着过们了而且并及")
_ZH_FUNCTION = re.compile("[的了是在和与或及而把被也都就这那我你他她它们所将要会能可以一个为中对何使]")


_STOP = frozenset(("the", "and", "for", "that", "this", "with", "from", "are", "was", "were", "been",
                   "have", "has", "had", "not", "but", "its", "into", "than", "then", "they", "their",
                   "which", "when", "where", "what", "also", "can", "may", "will", "would", "should",
                   "could", "more", "most", "some", "such", "other", "these", "those", "there", "about",
                   "each", "many", "much", "very", "only", "over", "your", "you", "our", "how", "all",
                   "one", "two", "use", "used", "using", "does", "did", "being", "between", "because",
                   "three", "four", "five", "six", "seven", "eight", "nine", "ten", "first", "second",
                   "after", "before", "while", "during", "still", "further", "within", "without",
                   "made", "make", "takes", "take", "well", "good", "great", "just", "like", "even"))


# --- 3. smooth and render -------------------------------------------------------------------------

@dataclass(frozen=True)
class Composed:
    """A finished source-first draft (before the check adds its ``[n]`` markers)."""

    text: str
    framing: tuple[str, ...]  # template or model lines that are framing, not claims
    edits: tuple[Edit, ...]
    sentences: tuple[SourceSentence, ...]


_TEMPLATES = {
    "en": {"intro": "This {form} looks at {topic}: {parts}.",
           "intro_one": "This {form} looks at {topic}.",
           "close": "Those are the main points on {topic}.",
           "subject": "Subject: {title}", "greeting": "Hi,",
           "email_intro": "Here is what our notes say about {topic}.", "sign_off": "Best regards,",
           "and": " and ", "comma": ", "},
    "zh": {"intro": "本文围绕{topic}，整理资料中的要点：{parts}。",
           "intro_one": "本文围绕{topic}，整理资料中的要点。",
           "close": "以上就是资料中关于{topic}的要点。",
           "subject": "主题：{title}", "greeting": "您好：",
           "email_intro": "以下是资料中关于{topic}的要点。", "sign_off": "此致\n敬礼",
           "and": "和", "comma": "、"},
}


class Composer:
    """Writes source-first drafts. ``generator`` makes the short edits; ``languages`` are the
    languages it can write (None: unknown, try and check every edit)."""

    def __init__(self, generator, embed: Embed, *, languages: tuple[str, ...] | None = None):
        self.generator = generator
        self.embed = embed
        self.languages = languages

    def can_write(self, language: str) -> bool:
        return self.languages is None or language in self.languages

    # --- a whole draft ----------------------------------------------------------------------

    def write(self, brief: Brief, passages: Sequence[Passage], settings, cancel: threading.Event,
              ) -> Iterator[str | Composed]:
        """Yield the draft block by block (title and introduction, each section, the close),
        then one :class:`Composed`."""
        language = "zh" if brief.language == "zh" else "en"
        pool = candidates(passages, language)
        # the title, introduction, headings and close take about this many words of the length
        target = max(40, (brief.max_words or brief.target_words) - (30 if language == "en" else 40))
        limit = brief.bullet_count or None
        if brief.form == "social_post":
            target, limit = (100 if language == "zh" else 35), 2
        chosen = select(brief, pool, passages, self.embed, target=target, limit=limit, seed=settings.seed)
        plan = arrange(brief, chosen, passages, self.embed)
        yield from self.render(brief, plan, settings, cancel)

    def render(self, brief: Brief, plan: Plan, settings, cancel: threading.Event) -> Iterator[str | Composed]:
        language = "zh" if brief.language == "zh" else "en"
        words = _TEMPLATES[language]
        topic = brief.query.strip(" .?!") if len(brief.query.split()) <= 8 else plan.title.lower()
        topic = topic or plan.title
        form = FORM_WORDS.get(brief.form, "piece")
        edits: list[Edit] = []
        framing: list[str] = []
        sentences = [s for section in plan.sections for s in section.sentences]
        context = " ".join([plan.title] + [s.heading for s in plan.sections] + [s.text for s in sentences])
        join = "" if language == "zh" else " "
        seed = settings.seed or 0

        def frame(line: str) -> str:
            framing.append(line)
            return line

        def smooth(sentence: SourceSentence, n: int) -> str:
            if cancel.is_set() or brief.tone in ("neutral", "") or not self.can_write(language) \
                    or n >= MAX_TONE_EDITS:
                return sentence.text
            text, edit = self.rewrite(sentence.text, brief.tone, language, settings, seed + n, cancel)
            edits.append(edit)
            return text

        title_words = set(plan.title.lower().split())
        headings = [s.heading for s in plan.sections if s.heading and not set(s.heading.lower().split()) <= title_words]
        if len(headings) > 4 or any(len(h.split()) > 5 or h.endswith(("?", "？")) for h in headings):
            headings = []  # too many or too long to list in one line
        parts = words["comma"].join(headings[:-1]) + words["and"] + headings[-1] if len(headings) > 1 else ""
        template_intro = (words["intro"] if parts else words["intro_one"]).format(form=form, topic=topic, parts=parts)
        bulleted = brief.form == "outline" or brief.bullet_count is not None
        blocks: list[str] = []
        counter = iter(range(10_000))

        if brief.form == "email":
            blocks.append(frame(words["subject"].format(title=plan.title)))
            blocks.append(frame(words["greeting"]))
            blocks.append(frame(words["email_intro"].format(topic=topic)))
        elif brief.form == "social_post":
            pass
        else:
            blocks.append(frame(f"# {plan.title}"))
            if brief.form in ("article", "blog_post", "free") or (bulleted and brief.form != "outline"):
                intro = template_intro
                if self.can_write(language) and not cancel.is_set():
                    intro, edit = self.framing_line("intro", plan, brief, context, settings, seed, cancel,
                                                    fallback=template_intro)
                    edits.append(edit)
                blocks.append(frame(intro))
        yield "\n\n".join(blocks)
        for number, section in enumerate(plan.sections, start=1):
            if cancel.is_set():
                break
            lines = []
            if section.heading and brief.form not in ("email", "social_post", "summary", "product_description"):
                lines.append(frame(f"## {number}. {section.heading}" if brief.form == "outline" else f"## {section.heading}"))
            texts = [smooth(s, next(counter)) for s in section.sentences]
            if bulleted or (brief.form == "product_description" and len(texts) > 2):
                lead = [] if bulleted else texts[:2]
                items = texts if bulleted else texts[2:]
                if lead:
                    lines.append(join.join(lead))
                lines.append("\n".join(f"- {t}" for t in items))
            else:
                size = 3 if brief.form in ("blog_post", "email") else 4
                lines += [join.join(texts[i:i + size]) for i in range(0, len(texts), size)]
            block = "\n\n".join(lines)
            blocks.append(block)
            yield "\n\n" + block
        tail = []
        if brief.form == "social_post":
            tags = [_hashtag(brief.query)] if len(brief.query.split()) <= 4 else \
                [_hashtag(k) for k in brief.keywords[:3]]
            tail.append(frame(" ".join(t for t in tags if t)))
        elif brief.form == "email":
            tail += [frame(words["sign_off"])]
        elif brief.form in ("article", "blog_post") and not cancel.is_set():
            close = words["close"].format(topic=topic)
            if self.can_write(language):
                close, edit = self.framing_line("close", plan, brief, context, settings, seed + 997, cancel,
                                                fallback=close)
                edits.append(edit)
            tail.append(frame(close))
        tail = [t for t in tail if t]
        if tail:
            blocks += tail
            yield "\n\n" + "\n\n".join(tail)
        yield Composed("\n\n".join(blocks), tuple(framing), tuple(edits), tuple(sentences))

    # --- the model's short edits ------------------------------------------------------------

    def _ask(self, prompt: str, settings, seed: int, cancel, max_new_tokens: int) -> str:
        small = replace(settings, max_new_tokens=max_new_tokens, seed=seed)
        return "".join(self.generator.stream([{"role": "user", "content": prompt}], small, cancel))

    def rewrite(self, text: str, tone: str, language: str, settings, seed: int,
                cancel: threading.Event) -> tuple[str, Edit]:
        """One sentence in ``tone``, or the sentence itself when the edit would lose or add a
        fact, change the language or echo the prompt."""
        style = "clearer, plain" if tone in ("neutral", "") else tone
        prompt = f"Rewrite this sentence in a {style} tone. Keep every fact, number and name.\n\n{text}"
        output = self._ask(prompt, settings, seed, cancel, max_new_tokens=min(100, 12 + 2 * len(text.split())))
        candidate = _first_sentences(strip_scaffolding(output), limit=2)
        reason = edit_problem(candidate, text, prompt, language)
        return (candidate if not reason else text), Edit("tone", prompt, output, not reason, reason)

    def framing_line(self, task: str, plan: Plan, brief: Brief, context: str, settings, seed: int,
                     cancel, *, fallback: str) -> tuple[str, Edit]:
        """A one-line introduction or close from the model, kept only if it says nothing the
        title, headings and chosen sentences do not."""
        form = FORM_WORDS.get(brief.form, "piece")
        topics = ", ".join(s.heading for s in plan.sections if s.heading) or plan.title
        style = brief.tone if brief.tone not in ("neutral", "") else "clear"
        if task == "intro":
            prompt = f"Write one {style} opening sentence for a {form} about {plan.title}. It covers {topics}."
        else:
            prompt = f"Write one {style} closing sentence for a {form} about {plan.title}."
        output = self._ask(prompt, settings, seed, cancel, max_new_tokens=40)
        candidate = _first_sentences(strip_scaffolding(output), limit=1)
        reason = edit_problem(candidate, context, prompt, brief.language, framing=True)
        return (candidate if not reason else fallback), Edit(task, prompt, output, not reason, reason)


    # --- revising a draft's sentences -----------------------------------------------------------

    def revise(self, instruction: str, brief: Brief, text: str, passages: Sequence[Passage], settings,
               cancel: threading.Event, *, selection: str = "", framing=()) -> Iterator[str | Composed]:
        """Continue, rewrite, expand or shorten a source-first draft sentence by sentence (within
        ``selection`` when given): shorten drops the least relevant sentences, expand adds the
        sentence that follows each one in its source, rewrite re-smooths each with the model,
        continue adds a section of sentences the draft does not use yet."""
        from studio.grounding import MARKER, check

        language = "zh" if brief.language == "zh" else "en"
        plain = MARKER.sub("", text).strip()
        report = check(plain, passages, framing=frozenset(framing))
        region = (0, len(report.text))
        if selection:
            spot = MARKER.sub("", selection).strip()
            at = report.text.find(spot) if spot else -1
            if at < 0:
                plain_at = plain.find(spot)
                at = plain_at if plain_at >= 0 else 0
            region = (at, at + len(spot)) if at >= 0 and spot else region
        # findings are positioned in report.text (which has markers): work on that text
        body = report.text
        claims = [f for f in report.findings if f.status != "framing" and f.passage is not None
                  and region[0] <= f.start and f.end <= region[1] + 1]
        edits: list[Edit] = []
        present = {normalise(clean_sentence(f.text)).lower() for f in report.findings}
        replacements: list[tuple[int, int, str]] = []  # (start, end, new text) in body
        seed = settings.seed or 0

        if instruction == "shorten" and claims:
            words = sum(_words(f.text, language) for f in claims)
            keep_words = words / 2
            vectors = self.embed([brief.query] + [f.text for f in claims])
            relevance = vectors[1:] @ vectors[0]
            per_line = Counter(body.count("\n", 0, f.start) for f in claims)
            for i in np.argsort(relevance):
                if words <= keep_words:
                    break
                f = claims[int(i)]
                line = body.count("\n", 0, f.start)
                bullet = re.match(r"\s*(?:[-*+]|\d+[.)])\s", body[body.rfind("\n", 0, f.start) + 1:])
                if per_line[line] <= 1 and not bullet:
                    continue  # every paragraph keeps one sentence
                per_line[line] -= 1
                words -= _words(f.text, language)
                end = f.end + (len(f" [{f.passage}]") if body.startswith(f" [{f.passage}]", f.end) else 0)
                replacements.append((f.start, end, ""))
        elif instruction == "rewrite":
            for n, f in enumerate(claims):
                if cancel.is_set() or not self.can_write(language):
                    break
                new, edit = self.rewrite(clean_sentence(f.text), brief.tone, language, settings, seed + n, cancel)
                edits.append(edit)
                if edit.accepted:
                    replacements.append((f.start, f.end, new))
        elif instruction == "expand":
            budget = max(40, sum(_words(f.text, language) for f in claims) * 0.8)
            for f in claims:
                if budget <= 0:
                    break
                follower = _next_sentence(passages[f.passage - 1], f.support_end, language, present)
                if follower:
                    present.add(normalise(follower).lower())
                    budget -= _words(follower, language)
                    end = f.end + (len(f" [{f.passage}]") if body.startswith(f" [{f.passage}]", f.end) else 0)
                    joiner = "" if language == "zh" else " "
                    replacements.append((end, end, joiner + follower))
        added = ""
        if instruction == "continue" or (instruction == "expand" and not replacements):
            pool = candidates(passages, language)
            more = select(brief, pool, passages, self.embed, exclude=present, seed=settings.seed,
                          target=max(40, _words(plain, language) // 3))
            if not more:
                raise StudioError("The sources of this draft have nothing more that it does not already "
                                  "say: add material on the topic, or write a new draft from more collections.",
                                  code="nothing_more")
            if more:
                more.sort(key=lambda s: s.order)
                heading = _key_phrase([s.text for s in more], {h.lower() for h in re.findall(r"^#+\s*(.+)$", plain, re.M)},
                                      language, fallback=True)
                texts = [s.text for s in more]
                join = "" if language == "zh" else " "
                lines = "\n".join(f"- {t}" for t in texts) if brief.form == "outline" or brief.bullet_count is not None \
                    else join.join(texts)
                added = (f"## {heading}\n\n" if brief.form not in ("email", "social_post", "summary") else "") + lines
        for start, end, new in sorted(replacements, reverse=True):
            body = body[:start] + new + body[end:]
        body = re.sub(r"[ \t]+\n", "\n", body)
        body = re.sub(r"^[-*]\s*$\n?", "", body, flags=re.M)
        body = re.sub(r"\n{3,}", "\n\n", body).strip()
        if added:
            body = body + "\n\n" + added
        body = MARKER.sub("", body)
        yield body
        yield Composed(body, tuple(framing), tuple(edits), ())


def edit_problem(candidate: str, source: str, prompt: str, language: str, *, framing: bool = False) -> str:
    """Why a model edit of ``source`` must be refused, or "" when it may stand."""
    from studio.hygiene import language_of

    if not candidate or len(candidate) < 8:
        return "empty"
    if language_of(candidate) != ("zh" if language == "zh" else "en"):
        return "wrong language"
    instruction = prompt.split("\n\n")[0]
    if echoes(candidate, instruction, n=4) > 0.2 or re.search(r"\b(?:tone|rewrite|sentence)\b", candidate, re.I):
        return "echoes the prompt"
    if "[" in candidate or "<" in candidate or "http" in candidate:
        return "markup or links"
    size, original = len(candidate.split()), len(source.split())
    if framing:
        if not 5 <= size <= 35:
            return "too long or short for one line"
    elif not 0.6 * original <= size <= 1.6 * original + 3:
        return "length changed too much"
    coverage = lexical_scorer(candidate, [source])[0]
    if coverage < (FRAMING_COVERAGE if framing else EDIT_COVERAGE):
        return f"says things its source does not ({round(coverage * 100)}% of its words are in it)"
    if not framing:
        kept = lexical_scorer(source, [candidate])[0]
        if kept < EDIT_RETENTION:
            return f"leaves out what its source says ({round(kept * 100)}% of the source's words kept)"
    own = {f.key for f in hard_facts(source)}
    new = [f.shown for f in hard_facts(candidate) if f.key not in own]
    if new:
        return f"adds {', '.join(new)}"
    if not framing:
        kept = {f.key for f in hard_facts(candidate)}
        lost = [f.shown for f in hard_facts(source) if f.key not in kept]
        if lost:
            return f"drops {', '.join(lost)}"
    return ""


def _first_sentences(text: str, *, limit: int) -> str:
    text = " ".join(text.split()).strip("\"'“”")
    spans = split_sentences(text)[:limit]
    return text[spans[0][0]:spans[-1][1]] if spans else ""


def _hashtag(keyword: str) -> str:
    parts = re.findall(r"\w+", keyword)
    return "#" + "".join(p[:1].upper() + p[1:] for p in parts) if parts else ""


def _next_sentence(passage: Passage, after: int, language: str, present: set[str]) -> str:
    """The first usable sentence of ``passage`` that starts after ``after`` and is not in the draft."""
    for start, end in split_sentences(passage.text):
        if start < after:
            continue
        text = clean_sentence(passage.text[start:end])
        if _usable(text, language) and normalise(text).lower() not in present:
            return text
    return ""
