"""The understanding step on real-sounding requests in English and Chinese."""

import pytest

from studio.understanding import WriteRequest, understand

# prompt -> expected Brief fields (only the fields named are checked)
TABLE = [
    ("Write a blog post about sourdough starters",
     dict(task="text", form="blog_post", language="en", query="sourdough starters")),
    ("Write a friendly blog post about tidal energy in 3 bullet points",
     dict(form="blog_post", tone="friendly", query="tidal energy", bullet_count=3)),
    ("Can you draft an email to my team about the new release schedule?",
     dict(form="email", query="the new release schedule")),
    ("Please write a formal email announcing our office move, under 150 words",
     dict(form="email", tone="formal", max_words=150, length="short", query="our office move")),
    # a cue cut out of Chinese leaves no space behind (the draft's title was "西湖的 介绍")
    ("写一段西湖的简短介绍", dict(language="zh", length="short", query="西湖的介绍")),
    ("请写一篇简洁的关于苏堤 春天的博客", dict(form="blog_post", query="苏堤 春天")),
    ("Summarize the key findings on microplastics in rivers",
     dict(form="summary", query="microplastics in rivers")),
    ("Give me an outline for an article on urban beekeeping",
     dict(form="outline", query="urban beekeeping")),
    ("Outline a talk about the history of typography",
     dict(form="outline", query="the history of typography")),
    ("Write a tweet about our spring sale",
     dict(form="social_post", length="short", query="our spring sale")),
    ("Write a LinkedIn post about lessons from five years of remote work",
     dict(form="social_post", query="lessons from five years of remote work")),
    ("Write a product description for a bamboo cutting board",
     dict(form="product_description", query="a bamboo cutting board")),
    ("Rewrite this paragraph in a more casual tone",
     dict(form="rewrite", tone="casual")),
    ("Expand on the section about soil health",
     dict(form="expand", query="soil health")),
    ("Write a detailed article about the economics of solar panels",
     dict(form="article", length="long", query="the economics of solar panels")),
    ("Write a 600-word essay on the ethics of zoos",
     dict(form="article", target_words=600, query="the ethics of zoos")),
    ("Write a short humorous article about commuting by bike",
     dict(form="article", tone="humorous", length="short", query="commuting by bike")),
    ("Create an illustration of a lighthouse at dawn",
     dict(task="image", query="a lighthouse at dawn")),
    ("Write a blog post about coral reefs with a cover image",
     dict(task="both", form="blog_post", query="coral reefs")),
    ("Draw a picture of a fox reading a book", dict(task="image")),
    ("Write a persuasive article about public libraries in 5 paragraphs",
     dict(form="article", tone="persuasive", paragraph_count=5, query="public libraries")),
    ("Give me 5 tips for writing better headlines",
     dict(bullet_count=5, query="writing better headlines")),
    ("What did my notes say about the 1918 flu pandemic?",
     dict(form="free", task="text", language="en")),
    ("Write an academic summary of the research on sleep and memory",
     dict(form="summary", tone="academic", query="the research on sleep and memory")),
    ("Write a newsletter about our community garden in Chinese",
     dict(form="email", language="zh", query="our community garden")),
    ("Write a professional blog post about cloud cost control, about 800 words",
     dict(form="blog_post", tone="professional", target_words=800, length="long",
          query="cloud cost control")),
    ("Write an enthusiastic Instagram caption about our new coffee blend",
     dict(form="social_post", tone="enthusiastic", query="our new coffee blend")),
    ("帮我写一篇关于人工智能在医疗中应用的博客文章",
     dict(form="blog_post", language="zh", query="人工智能在医疗中应用")),
    ("写一篇关于长城历史的文章，800字左右",
     dict(form="article", language="zh", target_words=800, query="长城历史")),
    ("请总结一下这份报告的主要内容",
     dict(form="summary", language="zh")),
    ("给客户写一封邮件，说明发货延迟的原因，语气要正式",
     dict(form="email", tone="formal", language="zh")),
    ("写一条关于春季新品的微博，轻松幽默一点",
     dict(form="social_post", language="zh", length="short")),
    ("为我们的竹制砧板写一段产品描述",
     dict(form="product_description", language="zh")),
    ("列出关于时间管理的5个要点",
     dict(language="zh", bullet_count=5, query="时间管理")),
    ("写一个关于碳中和的大纲",
     dict(form="outline", language="zh", query="碳中和")),
    ("把这段话改写得更专业一些",
     dict(form="rewrite", tone="professional", language="zh")),
    ("扩写这段关于西湖的描述",
     dict(form="expand", language="zh")),
    ("写一篇关于量子计算的文章，不超过300字",
     dict(form="article", language="zh", max_words=300, query="量子计算")),
    ("画一张江南水乡的插图",
     dict(task="image", language="zh")),
    ("写一篇关于咖啡文化的博客，并配一张封面图片",
     dict(task="both", form="blog_post", language="zh", query="咖啡文化")),
    ("用英文写一篇关于熊猫保护的文章",
     dict(form="article", language="en", query="熊猫保护")),
    ("写一篇详细的关于新能源汽车电池技术的报道",
     dict(form="article", length="long", language="zh", query="新能源汽车电池技术")),
    ("以学术的语气概括一下深度学习的发展",
     dict(form="summary", tone="academic", language="zh")),
    ("分三段写一篇关于秋天的散文", dict(language="zh", paragraph_count=3)),
    # Chinese numerals and ranges count as Arabic numerals do
    ("写一篇关于长城的文章，三百字左右",
     dict(form="article", target_words=300, length="medium", query="长城")),
    ("写一篇关于茶文化的文章，一千字以内", dict(max_words=1000, query="茶文化")),
    ("写一篇关于春节的短文，不超过五百字", dict(max_words=500, target_words=400)),
    ("写一篇一百五十字左右的产品描述，介绍竹制砧板",
     dict(form="product_description", target_words=150, length="short")),
    ("写一篇关于新能源汽车的文章，一千二百字左右", dict(target_words=1200, length="long")),
    ("写一篇两三百字的短文介绍西湖", dict(target_words=250, query="西湖")),
    ("用两段写一篇关于秋天的散文", dict(paragraph_count=2)),
    ("写三到五段关于熊猫保护的文章", dict(paragraph_count=4, query="熊猫保护")),
    ("列出时间管理的五条要点", dict(bullet_count=5, query="时间管理")),
    ("给我十条写作建议", dict(bullet_count=10)),
    ("用三个要点总结这份报告", dict(form="summary", bullet_count=3)),
    # a lone 一 is "a" (a post, a little), and 十字 is a crossroads, not a count
    ("写一条关于春季新品的微博，轻松幽默一点", dict(bullet_count=None, max_words=None)),
    ("写一篇关于十字路口设计的文章", dict(target_words=400, query="十字路口设计")),
    ("Write a 300-500 word essay on the ethics of zoos", dict(target_words=400, query="the ethics of zoos")),
]


@pytest.mark.parametrize("prompt, expected", TABLE, ids=[p[:40] for p, _ in TABLE])
def test_requests_are_understood(prompt, expected):
    brief = understand(WriteRequest(prompt))
    got = {name: getattr(brief, name) for name in expected}
    assert got == expected


def test_table_is_large_and_bilingual():
    assert len(TABLE) >= 40
    languages = [understand(WriteRequest(p)).language for p, _ in TABLE]
    assert languages.count("zh") >= 15 and languages.count("en") >= 15


def test_explicit_choices_win_over_cues():
    brief = understand(WriteRequest("Write a casual blog post about tea", form="email",
                                    tone="formal", length="long", language="zh"))
    assert (brief.form, brief.tone, brief.length, brief.language) == ("email", "formal", "long", "zh")


def test_keywords_and_constraints_are_kept():
    brief = understand(WriteRequest("Write a blog post about Dutch windmills and polder drainage in 4 bullet points"))
    assert brief.keywords[:4] == ("dutch", "windmills", "polder", "drainage")
    assert brief.constraints == ("in 4 bullet points",)


def test_rewrite_of_a_selection_takes_its_topic_from_the_selection():
    brief = understand(WriteRequest("Rewrite this", source_text="Herons nest in tall trees near water."))
    assert brief.form == "rewrite"
    assert brief.query == "Herons nest in tall trees near water."


def test_understanding_is_deterministic():
    prompt = "写一篇关于长城历史的文章，800字左右"
    assert understand(WriteRequest(prompt)) == understand(WriteRequest(prompt))
