"""The understanding step: what a writer's request asks for, without a language model.

``understand(request)`` turns free text ("write a friendly blog post about sourdough in 3
bullet points, under 200 words") into a :class:`Brief`: task, content form, tone, length,
language, the retrieval query with the instructions stripped, keywords and constraints. It is
deterministic and takes microseconds, in English and Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.lexical import query_terms
from textkit.scripts import cjk_ratio

FORMS = ("article", "blog_post", "outline", "summary", "email", "social_post",
         "product_description", "rewrite", "expand", "free")
TONES = ("neutral", "formal", "casual", "friendly", "professional", "persuasive", "humorous",
         "academic", "enthusiastic", "serious")
LENGTHS = ("short", "medium", "long")
# Default target length in words (English) per length label; Chinese uses ~1.6 characters a word.
LENGTH_WORDS = {"short": 150, "medium": 400, "long": 900}


@dataclass(frozen=True)
class WriteRequest:
    """What the writer typed and chose. Empty choices mean "work it out from the prompt"."""

    prompt: str
    form: str = ""
    tone: str = ""
    length: str = ""
    language: str = ""  # "en" | "zh" | "" (the prompt's language)
    collections: tuple[str, ...] | None = None
    source_text: str = ""  # a selected passage to rewrite or expand
    strategy: str = ""  # "source-first" | "single" | "" (the studio's choice for its model)


@dataclass(frozen=True)
class Brief:
    task: str  # "text" | "image" | "both"
    form: str
    tone: str
    length: str
    target_words: int
    language: str
    query: str
    keywords: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    max_words: int | None = None
    bullet_count: int | None = None
    paragraph_count: int | None = None


# --- tables of cues -------------------------------------------------------------------------
# Order matters: the first form whose cue appears wins ("a summary email" is an email).

_FORM_CUES = [
    ("rewrite", r"\b(rewrite|re-write|rephrase|paraphrase|polish|reword)\b|改写|重写|润色|改一下"),
    ("expand", r"\b(expand|elaborate on|flesh out|lengthen)\b|扩写|展开写|扩展"),
    ("email", r"\b(e-?mail|newsletter)\b|邮件|電郵|写信|一封信"),
    ("social_post", r"\b(tweet|thread|social(?: media)? post|linkedin post|instagram|caption|facebook post)\b|"
                    r"微博|朋友圈|小红书|社交媒体|推文|动态"),
    ("product_description", r"\bproduct (description|copy|page)\b|产品(描述|介绍|文案)|商品(描述|详情)"),
    ("outline", r"\b(outline|table of contents|structure for)\b|大纲|提纲|目录"),
    ("summary", r"\b(summary|summari[sz]e|sum up|tl;?dr|recap|key takeaways)\b|摘要|总结|概括|概述"),
    ("blog_post", r"\bblog(?: ?post)?\b|博客|博文"),
    ("article", r"\b(article|essay|feature|op-ed|report|story|piece)\b|文章|稿子|报道|一篇"),
]
_IMAGE_CUE = re.compile(
    r"\b(image|picture|illustrat\w*|drawing|draw|photo|artwork|cover art|poster|banner|icon)\b|"
    r"插图|配图|图片|画一|画个|封面|海报|插画", re.I)
_TONE_CUES = [
    ("formal", r"\bformal(ly)?\b|正式|庄重"),
    ("casual", r"\b(casual|informal|conversational|relaxed|chatty)\b|轻松|随意|口语化"),
    ("friendly", r"\b(friendly|warm|approachable)\b|亲切|友好|温暖"),
    ("professional", r"\b(professional|business-like|corporate)\b|专业|商务"),
    ("persuasive", r"\b(persuasive|convincing|compelling|sales-y|salesy)\b|有说服力|劝说|打动"),
    ("humorous", r"\b(humou?rous|funny|witty|playful|light-hearted|lighthearted)\b|幽默|风趣|搞笑|俏皮"),
    ("academic", r"\b(academic|scholarly|scientific)\b|学术|严谨"),
    ("enthusiastic", r"\b(enthusiastic|excited|upbeat|energetic)\b|热情|激情|充满活力"),
    ("serious", r"\b(serious|sober|solemn)\b|严肃|沉稳"),
]
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10}
_NUM = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
# Chinese counts: Arabic or Chinese numerals ("三百", "两", "一千二"), optionally a range
# ("三到五", "300-500"; "两三百" is a range in one numeral). A lone 一 is "a"/"a little"
# ("写一条微博", "轻松一点"), not a count, so bullet counts skip it; a word count in Chinese
# numerals needs two characters, so "十字路口" or "一字一句" set no length.
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMERAL = "零〇一二两三四五六七八九十百千万"
_TO = r"\s*(?:到|至|-|–|—|~|～)\s*"
_ZH_COUNT = rf"(\d+|[{_ZH_NUMERAL}]+)(?:{_TO}(\d+|[{_ZH_NUMERAL}]+))?"
_ZH_MANY = rf"(\d+|(?!一(?![{_ZH_NUMERAL}]))[{_ZH_NUMERAL}]+)(?:{_TO}(\d+|[{_ZH_NUMERAL}]+))?"
_ZH_WORDS = rf"(\d+|[{_ZH_NUMERAL}]{{2,}})(?:{_TO}(\d+|[{_ZH_NUMERAL}]+))?\s*(?:个)?字"
_EN_RANGE = r"(\d+)(?:\s*(?:-|–|to)\s*(\d+))?"

# Constraints: (pattern, kind). Each match is recorded verbatim and removed from the query.
_CONSTRAINTS = [
    (rf"\b(?:in |with |as )?(?:exactly |about |around )?{_NUM}[ -](?:bullet[ -]?points?|bullets|key points|points|tips|reasons|ideas|items|takeaways)\b", "bullets"),
    (rf"(?:用|列出|列|分成|分为|给出)?{_ZH_MANY}\s*(?:个|条|点)?(?:要点|建议|理由|原因|方法|技巧)|"
     rf"(?:用|列出|列|分成|分为|给出)?{_ZH_MANY}\s*(?:条|点)(?![钟半])", "bullets"),
    (r"\b(?:as|in) (?:a )?(?:bulleted |bullet[- ]point )?list\b|\bbullet(?:ed)? points?\b|要点形式|列表形式", "bullets"),
    (rf"\b(?:in |with )?{_NUM} paragraphs?\b", "paragraphs"),
    (rf"(?:分成?|共|写成?)?{_ZH_COUNT}\s*(?:个)?(?:段落|段)", "paragraphs"),
    (rf"\b(?:under|below|less than|fewer than|no more than|at most|max(?:imum)?(?: of)?|within)\s+(\d+)\s*words?\b", "max_words"),
    (rf"(?:不超过|不要超过|不多于|少于|最多|控制在)\s*{_ZH_WORDS}(?:以内|之内)?|{_ZH_WORDS}(?:以内|之内)", "max_words"),
    (rf"\b(?:about|around|approximately|roughly|~)?\s*{_EN_RANGE}[ -]words?\b", "target_words"),
    (rf"(?:大约|大概|约|左右)?\s*{_ZH_WORDS}(?:左右|上下)?", "target_words"),
    (r"\b(?:in|with) (?:a |an )?(?:" + "|".join(t for t in TONES) + r"|friendly|witty|warm|light-hearted|conversational|informal) (?:tone|voice|style)\b", "tone"),
    (r"\bkeep it (?:short|brief)\b|\bone[- ]liner\b|简短|简洁|短一点", "short"),
    (r"\b(?:detailed|in-depth|in depth|comprehensive|long-form|thorough)\b|详细|深入|长篇", "long"),
    (r"\b(?:short|brief|quick|concise)\b", "short"),
]
_LANGUAGE_CUES = [
    ("en", r"\b(?:in|into) english\b|用英文|用英语|英文版|翻译成英文|英文写"),
    ("zh", r"\b(?:in|into) (?:chinese|mandarin)\b|用中文|用汉语|中文版|翻译成中文|中文写"),
]
# Instructions around the topic, stripped to leave the retrieval query.
_EN_LEAD = re.compile(
    r"^(?:(?:hey|hi|ok|okay)[,!]?\s+)?(?:please\s+)?(?:(?:can|could|would|will) you\s+)?(?:please\s+)?"
    r"(?:help me\s+)?(?:write|draft|create|compose|generate|make|give me|prepare|produce|put together|"
    r"come up with|turn|summari[sz]e|outline|rewrite|rephrase|paraphrase|polish|expand(?: on)?|"
    r"elaborate on|describe|tell me|i need|i want|we need)\b", re.I)
_EN_TOPIC = re.compile(r"\b(?:about|on|regarding|covering|concerning|for|of|introducing|announcing|explaining)\s+(.+)$", re.I)
_EN_FILLER = re.compile(
    r"^(?:me\s+|us\s+)?(?:(?:a|an|the|some|this|my|our)\b\s*)?(?:short |brief |long |quick |detailed |new |"
    r"catchy |engaging |compelling |friendly |formal |casual )*(?:(?:blog ?posts?|articles?|essays?|"
    r"features?|outlines?|summary|summaries|e-?mails?|newsletters?|tweets?|threads?|social(?: media)? posts?|"
    r"linkedin posts?|instagram captions?|captions?|product descriptions?|product copy|posts?|pieces?|"
    r"stor(?:y|ies)|reports?|paragraphs?|passages?|text|draft|copy|the following|this)\b)?\s*", re.I)
_ZH_LEAD = re.compile(r"^(?:请|麻烦|帮我|帮忙|给我|为我|替我|能不能|可以)*(?:写|撰写|起草|生成|创作|做|整理|总结|概括|改写|重写|润色|扩写|列出|列|出)?"
                      r"(?:一下|一篇|一封|一条|一段|一份|一个|篇|封|条|段|份|个)?")
_ZH_TOPIC = re.compile(r"(?:关于|有关|介绍|围绕|针对)(.+?)(?:的(?:短文|文章|博客|博文|邮件|大纲|提纲|摘要|总结|"
                       r"微博|推文|文案|产品描述|介绍|稿子|报道|内容|帖子|动态)|$)")
_ZH_FORM_WORDS = re.compile(r"的?(?:博客文章|短文|文章|博客|博文|邮件|大纲|提纲|摘要|总结|微博|推文|朋友圈|小红书|"
                            r"文案|产品描述|产品介绍|稿子|报道|帖子|动态)")


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token.lower()]


def zh_number(numeral: str) -> tuple[int, int]:
    """The value of a Chinese (or Arabic) numeral as a (low, high) range; equal for one number.

    >>> zh_number("三百"), zh_number("一千二"), zh_number("两"), zh_number("两三百"), zh_number("300")
    ((300, 300), (1200, 1200), (2, 2), (200, 300), (300, 300))
    """
    if numeral.isdigit():
        return int(numeral), int(numeral)
    # "两三百", "七八千", "三五": two digits side by side are a range
    pair = re.fullmatch(r"([一二两三四五六七八九])([一二两三四五六七八九])([十百千万]?)", numeral)
    if pair and _ZH_DIGITS[pair[1]] < _ZH_DIGITS[pair[2]]:
        unit = _ZH_UNITS.get(pair[3], 10000 if pair[3] == "万" else 1)
        return _ZH_DIGITS[pair[1]] * unit, _ZH_DIGITS[pair[2]] * unit
    total = section = digit = 0
    last_unit = 1
    for ch in numeral:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
            last_unit = 1 if ch in "零〇" else last_unit
        elif ch in _ZH_UNITS:
            section += (digit or 1) * _ZH_UNITS[ch]
            digit, last_unit = 0, _ZH_UNITS[ch]
        else:  # 万
            total += (section + digit) * 10000
            section = digit = 0
            last_unit = 10000
    # "一千二" is 1200 and "三百五" 350: a trailing digit counts in the unit below the last one
    tail = digit * (last_unit // 10) if last_unit > 10 else digit
    value = total + section + tail
    return value, value


def _amount(kind: str, numbers: list[str]) -> int:
    """One count from the numbers a constraint matched: a range gives its middle (a word
    target) or its top (a word limit); counts of bullets or paragraphs round the middle up."""
    values = [zh_number(n) if n[0] in _ZH_NUMERAL else (_number(n),) * 2 for n in numbers]
    low, high = values[0][0], values[-1][1]
    if kind == "max_words":
        return high
    if kind == "target_words":
        return round((low + high) / 2)
    return (low + high + 1) // 2


def understand(request: WriteRequest) -> Brief:
    """Read a :class:`WriteRequest` into a :class:`Brief`; explicit choices win over cues.

    >>> b = understand(WriteRequest("Write a friendly blog post about tidal energy in 3 bullet points"))
    >>> b.form, b.tone, b.query, b.bullet_count
    ('blog_post', 'friendly', 'tidal energy', 3)
    """
    prompt = " ".join(request.prompt.split())
    lowered = prompt.lower()

    # 1. constraints, spotted and cut out of the text the query comes from
    constraints: list[str] = []
    found: dict[str, int | bool] = {}
    rest = prompt
    for pattern, kind in _CONSTRAINTS:
        for match in re.finditer(pattern, rest, re.I):
            if kind in found and kind not in ("short", "long"):
                continue
            numbers = [g for g in match.groups() if g]
            found[kind] = _amount(kind, numbers) if numbers else True
            constraints.append(match.group().strip())
        rest = re.sub(pattern, _gap, rest, flags=re.I)

    # 2. form, task, tone, language
    form = request.form if request.form in FORMS else next(
        (name for name, cue in _FORM_CUES if re.search(cue, lowered, re.I)), "free")
    wants_image = bool(_IMAGE_CUE.search(lowered))
    text_asked = form != "free" or not wants_image
    task = "both" if wants_image and form != "free" else ("image" if wants_image else "text")
    if not text_asked:
        task = "image"
    tone = request.tone if request.tone in TONES else next(
        (name for name, cue in _TONE_CUES if re.search(cue, lowered, re.I)), "neutral")
    language = request.language or next(
        (code for code, cue in _LANGUAGE_CUES if re.search(cue, lowered, re.I)), "")
    for _, cue in _LANGUAGE_CUES:
        rest = re.sub(cue, _gap, rest, flags=re.I)
    if not language:
        language = "zh" if cjk_ratio(prompt) > 0.3 else "en"

    # 3. length
    max_words = found.get("max_words") if isinstance(found.get("max_words"), int) else None
    target = found.get("target_words") if isinstance(found.get("target_words"), int) else None
    length = request.length if request.length in LENGTHS else (
        "short" if found.get("short") or (max_words or target or 999) <= 200 or form == "social_post"
        else "long" if found.get("long") or (target or 0) >= 800 else "medium")
    target_words = target or (min(max_words, LENGTH_WORDS[length]) if max_words else LENGTH_WORDS[length])

    # 4. the retrieval query: the topic, without instructions
    query = _topic(rest, request.source_text)
    keywords = tuple(query_terms(query)[:8]) if cjk_ratio(query) <= 0.3 else _zh_keywords(query)

    return Brief(task=task, form=form, tone=tone, length=length, target_words=target_words,
                 language=language, query=query, keywords=keywords,
                 constraints=tuple(dict.fromkeys(constraints)), max_words=max_words,
                 bullet_count=found.get("bullets") if isinstance(found.get("bullets"), int) else (
                     0 if found.get("bullets") else None),
                 paragraph_count=found.get("paragraphs") if isinstance(found.get("paragraphs"), int) else None)


def _gap(cut: re.Match) -> str:
    """What a cue cut out of a request leaves: a space between English words, nothing inside
    Chinese, which has no spaces ("关于西湖的简短介绍" -> "关于西湖的介绍", not "西湖的 介绍")."""
    return "" if cjk_ratio(cut.group()) > 0.5 else " "


def _topic(text: str, source_text: str = "") -> str:
    text = " ".join(text.split()).strip(" ,.;:!?，。；：！？")
    if cjk_ratio(text) > 0.3:
        match = _ZH_TOPIC.search(text)
        topic = match.group(1) if match else _ZH_FORM_WORDS.sub("", _ZH_LEAD.sub("", text, count=1))
        topic = re.sub(r"^(?:一下|一篇|一封|一条|一段|这段话?|这篇文章?|以下内容?)", "", topic)
        topic = topic.strip(" ,.;:!?，。；：！？、的")
    else:
        stripped = _EN_LEAD.sub("", text, count=1).strip()
        match = _EN_TOPIC.search(stripped) if stripped != text or _EN_FILLER.match(stripped).group() else None
        topic = match.group(1) if match else _EN_FILLER.sub("", stripped, count=1)
        # "an article on urban beekeeping": the form word again, then the real topic
        inner = _EN_FILLER.match(topic).group()
        if inner.strip() and (nested := _EN_TOPIC.match(topic[len(inner):])):
            topic = nested.group(1)
        topic = re.sub(r"\s+(?:with|and)\s+(?:a|an)\s+(?:cover )?(?:image|picture|illustration)\b.*$", "", topic, flags=re.I)
        topic = re.sub(r"\b(?:for (?:my|our) (?:blog|newsletter|readers|team|website))\b", "", topic, flags=re.I)
        topic = topic.strip(" ,.;:!?\"'")
        # "tips for alerting in bullet points" leaves "alerting in" once the constraint is cut
        topic = re.sub(r"(?:\s+(?:in|on|at|for|with|about|of|and|or|to|as|by))+$", "", topic, flags=re.I)
    if not topic and source_text:
        # "rewrite this" carries its topic in the selected passage
        topic = " ".join(source_text.split())[:300]
    return topic or text


def _zh_keywords(query: str) -> tuple[str, ...]:
    parts = re.split(r"[\s,.;:!?，。；：！？、]|的|和|与|及|在|中|对|是|了|把|被|为|以及|或者|以", query)
    return tuple(dict.fromkeys(p for p in parts if len(p) >= 2))[:8]
