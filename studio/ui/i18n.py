"""The UI's words in English and Simplified Chinese; the browser's language picks one.

Labels are translated in the browser (``gr.I18n``): a component's label or text is given as
``t("key")`` and the page shows the entry for the browser's locale, English otherwise. Words made
while handling a request (status lines, the UI's own errors, table headers) are picked by
``say(request, key, ...)`` and ``table(request, name, rows)`` from the request's
Accept-Language, the same browser setting. Reasons that come from the knowledge base and the
studio (why a file was refused, what a limit is) carry a stable code and their values besides their
English text (``knowledge.errors.UserError``); ``reason(request, code, params, english)`` says them
in the page's language from ``REASONS``, and falls back to the English text for a code not there.
"""

from __future__ import annotations

import gradio as gr

from knowledge.errors import UserError
from studio.ui.reasons import FIELDS, LANGUAGE_VALUES, REASONS

# key: (English, 简体中文)
TEXT: dict[str, tuple[str, str]] = {
    "title": ("# Inkstone\nA writing studio grounded in your own material.",
              "# Inkstone 砚台\n以你自己的资料为依据的写作工作室。"),
    "tab.write": ("Write", "写作"),
    "lang.en": ("English", "英文"),
    "lang.zh": ("Chinese", "中文"),
    "tab.images": ("Images", "配图"),
    "tab.knowledge": ("Knowledge", "知识库"),
    "tab.history": ("History", "历史"),
    "tab.system": ("System", "系统"),
    "tab.settings": ("Settings", "设置"),
    # Settings: model connections (studio/ui/settings.py) and the model picker (model_picker.py)
    "settings.about": ("Connect model servers (Ollama, vLLM, llama.cpp's server, any OpenAI-compatible API) "
                       "and image models; their models appear in the model picker on Write. Models set by "
                       "environment variables stay the default.",
                       "连接模型服务器（Ollama、vLLM、llama.cpp 服务器或任何兼容 OpenAI 的 API）和图像模型；"
                       "它们的模型会出现在写作页的模型选择中。环境变量设置的模型仍是默认模型。"),
    "settings.connections": ("Connections", "连接"),
    "settings.name": ("Name", "名称"),
    "settings.kind": ("Kind", "类型"),
    "settings.kind_text": ("Text server", "文本服务器"),
    "settings.kind_image": ("Image model", "图像模型"),
    "settings.base_url": ("Base URL (e.g. http://127.0.0.1:8000/v1)", "基础 URL（例如 http://127.0.0.1:8000/v1）"),
    "settings.api_key": ("API key (optional; stored encrypted, never shown again)", "API 密钥（可选；加密保存，不再显示）"),
    "settings.model": ("Image model: diffusers folder or hub id", "图像模型：diffusers 文件夹或 hub id"),
    "settings.languages": ("Languages its models write (e.g. en, zh)", "其模型能写的语言（例如 en, zh）"),
    "settings.context": ("Context window in tokens (0: ask the server)", "上下文窗口（token 数；0 表示询问服务器）"),
    "settings.test": ("Test", "测试"),
    "settings.save": ("Save", "保存"),
    "settings.remove": ("Remove", "删除"),
    "settings.new": ("New connection", "新建连接"),
    "settings.admin_only": ("Only an administrator can change Settings.", "只有管理员可以修改设置。"),
    "msg.test_ok": ("✓ {url} answered in {ms} ms with {count} model(s): {models}",
                    "✓ {url} 在 {ms} 毫秒内响应，共 {count} 个模型：{models}"),
    "msg.test_failed": ("✗ {error}", "✗ {error}"),
    "msg.saved_connection": ("Saved {name}.", "已保存 {name}。"),
    "msg.removed_connection": ("Removed {name}.", "已删除 {name}。"),
    "msg.choose_connection": ("Choose a connection in the table first.", "请先在表格中选择一个连接。"),
    "msg.key_set": ("•••• set (leave empty to keep it)", "•••• 已设置（留空则保留）"),
    "cols.connections": ("Name|Kind|URL or model|Languages|Context|Key", "名称|类型|URL 或模型|语言|上下文|密钥"),
    "settings.embedding": ("### Embedding model of the knowledge base\nEvery passage is embedded again in the "
                           "background; search keeps answering from the old vectors until it is done.",
                           "### 知识库的嵌入模型\n所有段落会在后台重新嵌入；完成之前，搜索仍使用旧的向量。"),
    "settings.embedder": ("Embedding model (or a local sentence-transformers folder)",
                          "嵌入模型（或本地 sentence-transformers 文件夹）"),
    "settings.reembed": ("Embed the library again", "重新嵌入资料库"),
    "msg.reembed_running": ("Embedding again with {model}: {done} of {total} passages…",
                            "正在用 {model} 重新嵌入：{done} / {total} 个段落…"),
    "msg.reembed_done": ("✓ The library is embedded with {model} ({total} passages); search uses it now.",
                         "✓ 资料库已用 {model} 嵌入（{total} 个段落）；搜索现在使用它。"),
    "msg.reembed_failed": ("✗ Embedding again with {model} failed: {error}. Search still uses the old model.",
                           "✗ 用 {model} 重新嵌入失败：{error}。搜索仍使用旧模型。"),
    "msg.reembed_idle": ("The library is embedded with {model}.", "资料库当前使用 {model} 嵌入。"),
    "picker.model": ("Model", "模型"),
    "picker.image_model": ("Image model", "图像模型"),
    "picker.refresh": ("↻ Models", "↻ 模型"),
    "picker.anyway": ("Write anyway, even if the model does not write the request's language",
                      "即使模型不写请求的语言也照写"),
    "picker.facts": ("{backend} · context {context} · writes {languages} · {speed}",
                     "{backend} · 上下文 {context} · 写作语言 {languages} · {speed}"),
    "picker.unknown": ("unknown", "未知"),
    "picker.speed": ("{tps} tokens/s (measured)", "{tps} token/秒（实测）"),
    "picker.speed_none": ("speed measured on first use", "首次使用时测速"),
    "picker.problems": ("Not listed: {problems}", "未列出：{problems}"),
    # Write
    "write.prompt": ("What should I write?", "要写什么？"),
    "write.placeholder": ("e.g. Write a friendly blog post about our tide-pool notes, under 300 words",
                          "例如：根据我们的潮池笔记写一篇亲切的博客文章，300 字以内"),
    "write.form": ("Form", "体裁"),
    "write.tone": ("Tone", "语气"),
    "write.length": ("Length", "篇幅"),
    "write.auto": ("Work it out", "自动判断"),
    "form.": ("Work it out from my request", "根据请求自动判断"),
    "form.article": ("Article", "文章"),
    "form.blog_post": ("Blog post", "博客文章"),
    "form.outline": ("Outline", "提纲"),
    "form.summary": ("Summary", "摘要"),
    "form.email": ("Email", "邮件"),
    "form.social_post": ("Social post", "社交媒体帖子"),
    "form.product_description": ("Product description", "产品描述"),
    "form.rewrite": ("Rewrite a passage", "改写一段"),
    "form.expand": ("Expand a passage", "扩写一段"),
    "form.free": ("Free prompt", "自由提示"),
    "tone.neutral": ("neutral", "中性"),
    "tone.formal": ("formal", "正式"),
    "tone.casual": ("casual", "随意"),
    "tone.friendly": ("friendly", "亲切"),
    "tone.professional": ("professional", "专业"),
    "tone.persuasive": ("persuasive", "有说服力"),
    "tone.humorous": ("humorous", "幽默"),
    "tone.academic": ("academic", "学术"),
    "tone.enthusiastic": ("enthusiastic", "热情"),
    "tone.serious": ("serious", "严肃"),
    "length.short": ("short", "短"),
    "length.medium": ("medium", "中等"),
    "length.long": ("long", "长"),
    "write.collections": ("Draw on collections (empty = all)", "引用的文集（留空 = 全部）"),
    "write.model_settings": ("Model settings", "模型设置"),
    "write.max_new_tokens": ("Max new tokens", "最多生成的词元数"),
    "write.temperature": ("Temperature (0 = greedy)", "温度（0 = 贪心解码）"),
    "write.seed": ("Seed (empty = random, always recorded)", "随机种子（留空 = 随机，始终记录）"),
    "seed.placeholder": ("random", "随机"),
    "write.button": ("Write", "开始写作"),
    "write.stop": ("Stop", "停止"),
    "write.regenerate": ("Regenerate", "重新生成"),
    "write.empty": ("*Your draft will appear here as it is written.*", "*草稿会在生成时逐字显示在这里。*"),
    "write.draft": ("Draft", "草稿"),
    "write.draft_id": ("Draft id", "草稿编号"),
    "write.export_md": ("Export Markdown", "导出 Markdown"),
    "write.export_docx": ("Export DOCX", "导出 DOCX"),
    "write.download": ("Download", "下载"),
    "write.selection": ("Selection to revise (paste a passage; empty = whole draft)",
                        "要修改的段落（粘贴一段；留空 = 整篇草稿）"),
    "write.revise_how": ("Revise", "修改方式"),
    "revise.continue": ("continue", "续写"),
    "revise.rewrite": ("rewrite", "改写"),
    "revise.expand": ("expand", "扩写"),
    "revise.shorten": ("shorten", "缩写"),
    "write.revise": ("Revise", "修改"),
    "write.sources": ("Sources", "来源"),
    "write.strategy": ("How to write", "写法"),
    "strategy.": ("Let the studio choose for its model", "由工作室按模型选择"),
    "strategy.source-first": ("Source-first: your sources' sentences, arranged and lightly edited",
                              "以来源为本：选取、编排资料原句并轻度润色"),
    "strategy.single": ("One prompt: the model writes freely (for strong models)",
                        "单一提示：由模型自由写作（适合强模型）"),
    "write.edit": ("Edit this draft by hand", "手动编辑草稿"),
    "write.edit_text": ("Draft text (Markdown; [n] cites source n; markers are re-checked on save)",
                        "草稿文本（Markdown；[n] 引用第 n 个来源；保存时重新核对）"),
    "write.export_flagged": ("Exports end with a list of the sentences to check", "导出时附上需要核对的句子清单"),
    "write.save_edit": ("Save and re-check", "保存并重新核对"),
    "write.empty_kb": ("**Start by adding your material.** Your knowledge base is empty, so a draft would "
                       "rest on nothing: open the **Knowledge** tab and upload notes, articles or style "
                       "guides (TXT, Markdown, HTML, PDF, DOCX), then come back and write.",
                       "**请先添加资料。** 你的知识库还是空的，草稿将没有任何依据：请打开**知识库**标签页，"
                       "上传笔记、文章或写作风格指南（TXT、Markdown、HTML、PDF、DOCX），然后再回来写作。"),
    "id.placeholder": ("none yet", "暂无"),
    "id.type": ("an id from the table", "表格中的编号"),
    # Images
    "images.off": ("**Images are off in this studio.** Making pictures needs an image model (such as "
                   "SD-Turbo), which does not come with Inkstone. Your administrator can add one with a "
                   "single line: `INKSTONE_IMAGE_MODEL=models/sd-turbo python app.py` (the README says "
                   "where to get the model). Until then you can still derive a prompt from your draft here.",
                   "**本工作室尚未开启配图。** 生成图片需要一个图像模型（例如 SD-Turbo），Inkstone 没有自带。"
                   "管理员只需一行命令即可添加：`INKSTONE_IMAGE_MODEL=models/sd-turbo python app.py`"
                   "（模型从哪里获取见 README）。在此之前，你仍可以在这里根据草稿生成提示词。"),
    "images.prompt": ("Prompt (English works best)", "提示词（英文效果最好）"),
    "images.suggest": ("Illustrate the current draft", "为当前草稿配图"),
    "images.passage": ("…or this passage", "……或为这一段配图"),
    "images.negative": ("Negative prompt", "反向提示词"),
    "images.steps": ("Steps", "步数"),
    "images.guidance": ("Guidance (0 for turbo models)", "引导强度（turbo 模型用 0）"),
    "images.width": ("Width", "宽度"),
    "images.height": ("Height", "高度"),
    "images.seed": ("Seed (empty = random)", "随机种子（留空 = 随机）"),
    "images.batch": ("Images", "张数"),
    "images.scheduler": ("Scheduler (empty = the model's own)", "调度器（留空 = 模型自带）"),
    "images.start_from": ("Start from an image", "从一张图片开始"),
    "images.init": ("Starting image", "起始图片"),
    "images.strength": ("Strength", "变化强度"),
    "images.generate": ("Generate", "生成"),
    "images.stop": ("Stop", "停止"),
    "images.results": ("Results", "结果"),
    # Knowledge
    "kb.empty": ("Upload documents to ground your writing: TXT, Markdown, HTML, PDF or DOCX.",
                 "上传文档，让写作有据可依：支持 TXT、Markdown、HTML、PDF 和 DOCX。"),
    "kb.collection": ("Collection", "文集"),
    "kb.new_name": ("New name", "新名称"),
    "kb.create": ("Create", "新建"),
    "kb.rename": ("Rename", "重命名"),
    "kb.delete_collection": ("Delete collection", "删除文集"),
    "kb.confirm_delete": ("Yes, delete it", "确定删除"),
    "kb.cancel": ("Cancel", "取消"),
    "kb.files": ("Documents (drop many at once)", "文档（可一次拖入多个）"),
    "kb.add": ("Add to knowledge base", "加入知识库"),
    "kb.report": ("Upload report", "上传结果"),
    "kb.documents": ("Documents", "文档"),
    "kb.doc_id": ("Document id", "文档编号"),
    "kb.remove": ("Remove document", "删除文档"),
    "kb.reindex": ("Re-index", "重建索引"),
    "kb.search": ("Search your material", "搜索你的资料"),
    "kb.k": ("passages", "段落数"),
    "kb.results": ("What retrieval finds", "检索结果"),
    "kb.share_with": ("Share with (user name)", "共享给（用户名）"),
    "kb.share_access": ("Access", "权限"),
    "kb.share": ("Share", "共享"),
    # History
    "history.empty": ("Nothing yet: drafts and images you make are listed here with how they were made.",
                      "还没有记录：你生成的草稿和图片会连同生成方式列在这里。"),
    "history.table": ("Generations", "生成记录"),
    "history.id": ("Generation id", "记录编号"),
    "history.other": ("Compare with id", "对比的记录编号"),
    "history.refresh": ("Refresh", "刷新"),
    "history.open": ("Open", "打开"),
    "history.compare": ("Compare side by side", "并排对比"),
    "history.rerun": ("Re-run", "重新运行"),
    "history.delete": ("Delete", "删除"),
    "history.diff": ("Changes (unified diff)", "改动（统一差异格式）"),
    "history.prompt": ("Exact prompt the model saw", "模型收到的完整提示词"),
    # System
    "system.about": ("Models in use (backend, device, dtype, quantisation, load state), storage, "
                     "the queue and request metrics.",
                     "正在使用的模型（后端、设备、数据类型、量化、加载状态）、存储、队列和请求指标。"),
    "system.details": ("Details", "详细信息"),
    "system.refresh": ("Refresh", "刷新"),
    "system.status": ("Status", "状态"),
    "system.metrics": ("Prometheus metrics", "Prometheus 指标"),
    # Table headers, columns separated by "|"
    "cols.sources": ("#|cited|document|page|passage", "#|引用|文档|页|段落"),
    "cols.report": ("file|result|chunks|reason", "文件|结果|段数|原因"),
    "cols.documents": ("id|name|type|pages|chunks|size|added|collection|status",
                       "编号|名称|类型|页数|段数|大小|加入时间|文集|状态"),
    "cols.results": ("#|score|source|passage", "#|得分|出处|段落"),
    "cols.history": ("id|kind|action|status|revises|model|backend|seed|created|request",
                     "编号|类型|操作|状态|修改自|模型|后端|随机种子|时间|请求"),
    "outcome.added": ("added", "已加入"),
    "outcome.duplicate": ("duplicate", "重复"),
    "outcome.failed": ("failed", "失败"),
    "outcome.replaced": ("replaced", "已替换"),
    "outcome.cancelled": ("cancelled", "已取消"),
    "kb.same_name": ("Same name, new content", "同名但内容不同"),
    "kb.keep_both": ("Keep both", "两份都保留"),
    "kb.replace": ("Replace (a new version)", "替换（作为新版本）"),
    "kb.cancel_upload": ("Cancel upload", "取消上传"),
    "outcome.ready": ("ready", "就绪"),
    # Messages made while handling a request
    "msg.seed": ("The seed must be a whole number but is {value!r}", "随机种子必须是整数，而不是 {value!r}"),
    "msg.writing": ("Writing a {form} about “{query}” ({tone}, {length})",
                    "正在写{form}：“{query}”（{tone}，{length}）"),
    "msg.found": ("Found {count} sources.", "找到 {count} 个来源。"),
    "msg.ungrounded": (" No sources found: the draft is not grounded.", "没有找到来源：草稿没有依据。"),
    "msg.progress": (" · {words} words so far · {seconds} s", " · 已写 {words} 字 · {seconds} 秒"),
    "msg.done": ("Done. Cited {cited} of {count} sources · seed {seed} · draft #{id}",
                 "完成。引用了 {count} 个来源中的 {cited} 个 · 随机种子 {seed} · 草稿 #{id}"),
    "msg.stopped": ("Stopped. Cited {cited} of {count} sources · seed {seed} · draft #{id}",
                    "已停止。引用了 {count} 个来源中的 {cited} 个 · 随机种子 {seed} · 草稿 #{id}"),
    "msg.checked": ("{summary} · cited {cited} of {count} sources · seed {seed} · draft #{id}",
                    "{summary} · 引用了 {count} 个来源中的 {cited} 个 · 随机种子 {seed} · 草稿 #{id}"),
    "msg.summary": ("{supported} of {claims} sentences supported", "{claims} 句中有 {supported} 句有来源支持"),
    "msg.summary_partial": ("; {n} partly", "；{n} 句部分支持"),
    "msg.summary_unsupported": ("; {n} with no source", "；{n} 句没有来源"),
    "msg.summary_facts": ("; {n} fact(s) in no source: {facts}", "；{n} 处事实不在任何来源中：{facts}"),
    "msg.flag.echo": ("⚠ This draft repeats its prompt instead of writing from your sources.",
                      "⚠ 这篇草稿在复述提示词，而不是根据你的资料写作。"),
    "msg.flag.wrong_language": ("⚠ This draft is not in the language you asked for.",
                                "⚠ 这篇草稿不是你要求的语言。"),
    "msg.flag.ungrounded": ("⚠ This draft may not rest on your sources: {cited} of {count} used.",
                            "⚠ 这篇草稿可能没有以你的资料为依据：{count} 个来源中只用了 {cited} 个。"),
    "msg.try_source_first": (" Try “How to write: Source-first”: it builds the draft from your sources' own sentences.",
                             "可以试试“写法：以来源为本”：草稿由资料原句构成。"),
    "msg.saved": ("Saved as draft #{id} · {summary}", "已保存为草稿 #{id} · {summary}"),
    "tip.unsupported": ("No passage supports this sentence", "没有来源支持这句话"),
    "tip.missing": ("Not in the source: {facts}", "来源中没有：{facts}"),
    "tip.partial": ("Only {pct}% of its words are in the source", "只有 {pct}% 的词出现在来源中"),
    "msg.regenerate_first": ("Write a draft first; then regenerate it.", "请先写一篇草稿，再重新生成。"),
    "msg.revise_first": ("Write a draft first; then continue, rewrite, expand or shorten it.",
                         "请先写一篇草稿，再续写、改写、扩写或缩写。"),
    "msg.export_first": ("Write a draft first; then export it.", "请先写一篇草稿，再导出。"),
    "msg.illustrate_first": ("Write a draft first, or paste the passage to illustrate.",
                             "请先写一篇草稿，或粘贴要配图的段落。"),
    "msg.prompt_from_draft": ("Prompt derived from the draft{style}. Edit it, then Generate.",
                              "已根据草稿生成提示词{style}。可先修改，再点“生成”。"),
    "msg.prompt_from_selection": ("Prompt derived from the selection{style}. Edit it, then Generate.",
                                  "已根据所选段落生成提示词{style}。可先修改，再点“生成”。"),
    "msg.prompt_from_draft_no_model": ("Prompt derived from the draft{style}. Copy it for later: images "
                                       "are off until an image model is added.",
                                       "已根据草稿生成提示词{style}。可以先复制保存：添加图像模型之前无法生成图片。"),
    "msg.prompt_from_selection_no_model": ("Prompt derived from the selection{style}. Copy it for later: "
                                           "images are off until an image model is added.",
                                           "已根据所选段落生成提示词{style}。可以先复制保存：添加图像模型之前无法生成图片。"),
    "msg.house_style": (" · house style: {words}", " · 写作风格：{words}"),
    "msg.image_step": ("step {step}/{total}", "第 {step}/{total} 步"),
    "msg.image_caption": ("seed {seed} · {steps} steps · {width}x{height}", "随机种子 {seed} · {steps} 步 · {width}x{height}"),
    "msg.images_made": ("Made {count} image(s); seeds {seeds}.", "生成了 {count} 张图片；随机种子 {seeds}。"),
    "msg.images_stopped": ("Stopped: kept {count} finished image(s); seeds {seeds}.",
                           "已停止：保留了已完成的 {count} 张图片；随机种子 {seeds}。"),
    "msg.no_provenance": ("This image carries no Inkstone parameters to reuse.", "这张图片没有可复用的 Inkstone 参数。"),
    "msg.reusing": ("Reusing the prompt and seed {seed} of the selected image.",
                    "正在复用所选图片的提示词和随机种子 {seed}。"),
    "msg.choose_files": ("Choose one or more files to upload first.", "请先选择要上传的文件。"),
    "msg.upload_progress": ("{files_read}/{files_total} files read, {chunks_done}/{chunks_total} chunks embedded",
                            "已读取 {files_read}/{files_total} 个文件，已嵌入 {chunks_done}/{chunks_total} 段"),
    "msg.no_collection": ("There is no collection called {name!r}.", "没有名为 {name!r} 的文集。"),
    "msg.confirm_delete": ("Delete collection **{name}** and the **{count}** document(s) in it? This cannot be undone.",
                           "删除文集 **{name}** 及其中的 **{count}** 篇文档？删除后无法恢复。"),
    "msg.collection_deleted": ("Deleted collection {name!r} and its {count} documents.",
                               "已删除文集 {name!r} 及其中的 {count} 篇文档。"),
    "msg.sharing_off": ("Sharing needs accounts: add users with `python -m studio users add NAME`.",
                        "共享需要先开启账户：用 `python -m studio users add 用户名` 添加用户。"),
    "msg.shared": ("{name!r}: {user} now has {access} access.", "{name!r}：{user} 现在有 {access} 权限。"),
    "msg.unshared": ("{name!r} is no longer shared with {user}.", "{name!r} 不再与 {user} 共享。"),
    "msg.doc_id_first": ("Type the id of the document to remove (first column of the table).",
                         "请输入要删除的文档编号（表格第一列）。"),
    "msg.reindexed": ("Rebuilt the vector index from the database: {count} chunks.",
                      "已根据数据库重建向量索引：{count} 段。"),
    "msg.no_passages": ("No passages found. ", "没有找到相关段落。"),
    "msg.incident": ("Something went wrong on our side (incident {id}); quote it to whoever runs the studio.",
                     "我们这边出了问题（事件编号 {id}）；请把编号告诉工作室的管理员。"),
    "msg.not_a_number": ("“{field}” must be a number, not {value!r}", "“{field}”必须是数字，而不是 {value!r}"),
    "msg.not_whole": ("“{field}” must be a whole number, not {value!r}", "“{field}”必须是整数，而不是 {value!r}"),
    "msg.id_number": ("An id is a whole number from the table, not {value!r}", "编号是表格中的整数，而不是 {value!r}"),
    "msg.id_first": ("Type a generation id from the table first.", "请先输入表格中的记录编号。"),
    "msg.second_id_first": ("Type a second id from the table first.", "请先输入第二个记录编号。"),
    "msg.rerun_done": ("Re-ran generation {id} as #{new_id}.", "已重新运行记录 {id}，新记录为 #{new_id}。"),
    "msg.no_differences": ("(no differences)", "（没有差别）"),
    # History: one record
    "history.brief": ("**Brief:** {form} · {tone} · {length} (about {words} words) · topic “{query}”",
                      "**要求：** {form} · {tone} · {length}（约 {words} 字）· 主题“{query}”"),
    "history.request": ("**Request:**", "**请求：**"),
    "history.made_with": ("**Made with** {model} ({backend}) · seed {seed} · {settings}",
                          "**生成方式：** {model}（{backend}）· 随机种子 {seed} · {settings}"),
    "history.revises": ("Revises #{id}.", "修改自 #{id}。"),
    "history.sources": ("Sources", "来源"),
    # System: the summary
    "system.role_text": ("Text model", "文本模型"),
    "system.role_embedding": ("Embedding model", "嵌入模型"),
    "system.role_image": ("Image model", "图像模型"),
    "system.model": ("{role}: **{id}**, {state}", "{role}：**{id}**，{state}"),
    "system.model_none": ("{role}: none configured", "{role}：未配置"),
    "system.loaded": ("loaded", "已加载"),
    "system.not_loaded": ("not loaded yet (loads on first use)", "尚未加载（首次使用时加载）"),
    "system.material": ("Knowledge base: **{documents}** documents in **{chunks}** passages",
                        "知识库：**{documents}** 篇文档，共 **{chunks}** 段"),
    "system.drafts": ("Drafts today: **{count}**.", "今天的草稿：**{count}** 篇。"),
    "system.typical": ("A draft typically takes **{seconds} s**.", "一篇草稿通常需要 **{seconds} 秒**。"),
    "system.typical_none": ("No finished draft yet to time.", "还没有完成的草稿可供计时。"),
    "system.errors": ("Errors in the last hour: **{count}**", "过去一小时的错误：**{count}** 个"),
}

LOCALES = {"en": 0, "zh-CN": 1}

I18N = gr.I18n(**{locale: {key: words[column] for key, words in TEXT.items()}
                  for locale, column in LOCALES.items()})


def t(key: str):
    """The words for ``key`` in the browser's language (a KeyError for a key not in TEXT)."""
    TEXT[key]
    return I18N(key)


def language(request) -> int:
    """The column of TEXT for the browser that sent ``request``: the first language in its
    Accept-Language that the studio speaks (any Chinese reads Simplified), else English."""
    headers = getattr(request, "headers", None) or {}
    for part in headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return 1
        if tag.startswith("en"):
            return 0
    return 0


def say(request, key: str, **values) -> str:
    """The message ``key`` in the language of ``request``'s browser, filled with ``values``."""
    return TEXT[key][language(request)].format(**values)


def headers(name: str) -> list[str]:
    """The English headers of table ``name``, for laying it out (the page's load translates them)."""
    return TEXT[f"cols.{name}"][0].split("|")


def table(request, name: str, rows: list[list]) -> dict:
    """A Dataframe value: ``rows`` under the headers of ``cols.<name>`` in the browser's language."""
    return {"headers": say(request, f"cols.{name}").split("|"), "data": rows}


def field_label(request, name: str) -> str:
    """The short label of field ``name`` (an argument name, or a TEXT key) in the page's
    language, without its parenthesised hint: ``"seed"`` -> ``"Seed"`` / ``"随机种子"``."""
    key = FIELDS.get(name, name)
    if key not in TEXT:
        return name
    label = TEXT[key][language(request)]
    return label.split(" (")[0].split("（")[0].strip()


def reason(request, code: str, params: dict, english: str) -> str:
    """A reason from knowledge/ or studio/ in the page's language: REASONS' words for ``code``
    filled with ``params``, or ``english`` for a code not there. An English page shows the
    error's own text ``english`` (it may carry detail, such as the parser's words, that the table
    leaves out), except for a reason that names a ``field``: the domain names the argument
    (``max_new_tokens``), the page the label the writer sees ("Max new tokens"). A value that is
    itself a reason (why a server is down) is said in the page's language too.

    >>> reason(None, "file_empty", {"name": "a.txt"}, "a.txt: is empty (0 bytes)")
    'a.txt: is empty (0 bytes)'
    >>> reason(None, "out_of_range", {"field": "max_new_tokens", "low": 1, "high": 1024, "value": 5000}, "")
    '“Max new tokens” must be between 1 and 1024 but is 5000'
    """
    column = language(request)
    words = REASONS.get(code)
    if words is None or (column == 0 and "field" not in params):
        return english
    values = {name: _said(request, name, value) for name, value in params.items()}
    try:
        return words[column].format(**values)
    except (KeyError, IndexError, ValueError):  # a reason whose values changed: its own words
        return english


def _said(request, name: str, value):
    """A reason's value as the page says it: a field by its label, a language code by the
    language's name, a nested reason in the page's language; anything else as it is."""
    if isinstance(value, UserError):
        return explain(request, value)
    if name == "field":
        return field_label(request, str(value))
    if name in LANGUAGE_VALUES:
        codes = [value] if isinstance(value, str) else list(value)
        return ("、" if language(request) else ", ").join(
            say(request, f"lang.{code}") if f"lang.{code}" in TEXT else code for code in codes)
    return value


def explain(request, error: UserError) -> str:
    """``error``'s reason in the page's language (see :func:`reason`)."""
    return reason(request, error.code, error.params, str(error))
