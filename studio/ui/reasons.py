"""The words for reasons that come from knowledge/ and studio/, by their stable code
(:attr:`knowledge.errors.UserError.code`), in English and Simplified Chinese; ``i18n.reason``
picks and fills them."""

from __future__ import annotations

# Reasons from knowledge/ and studio/ by their code (knowledge.errors.UserError.code). The English
# column is the gist of what the domain code says; English pages show the domain's own words.
REASONS: dict[str, tuple[str, str]] = {
    "file_unsupported": ("{name}: unsupported file type ({type}); upload TXT, Markdown, HTML, PDF or DOCX",
                         "{name}：不支持的文件类型（{type}）；请上传 TXT、Markdown、HTML、PDF 或 DOCX"),
    "file_is_pdf": ("{name}: is a PDF file with a {suffix} name; rename it to .pdf",
                    "{name}：这是一个 PDF 文件，却以 {suffix} 结尾；请改名为 .pdf"),
    "file_is_zip": ("{name}: is a ZIP or Office file, not text; save it as .docx or text",
                    "{name}：这是 ZIP 或 Office 文件，不是文本；请另存为 .docx 或文本"),
    "file_binary": ("{name}: is a binary file, not text", "{name}：这是二进制文件，不是文本"),
    "file_damaged": ("{name}: is damaged and could not be read", "{name}：文件已损坏，无法读取"),
    "file_encrypted": ("{name}: is encrypted; remove the password and upload it again",
                       "{name}：文件已加密；请去掉密码后重新上传"),
    "file_scanned": ("{name}: has no text layer (it looks scanned); run OCR on it and upload the result",
                     "{name}：没有文字层（像是扫描件）；请先做文字识别（OCR）再上传"),
    "file_bomb": ("{name}: expands far beyond any real document; refused", "{name}：解压后远超正常文档大小，已拒绝"),
    "file_empty": ("{name}: is empty (0 bytes)", "{name}：文件是空的（0 字节）"),
    "file_no_text": ("{name}: contains no text to add", "{name}：没有可加入的文字"),
    "file_too_big": ("{name}: is {mb} MB, over the {limit} MB limit; split it",
                     "{name}：文件大小 {mb} MB，超过 {limit} MB 的上限；请拆分后上传"),
    "file_too_complex": ("{name}: needs more than the reader's memory limit; it may be damaged or hostile",
                         "{name}：读取所需内存超过上限；文件可能已损坏或有意构造"),
    "file_timeout": ("{name}: reading took longer than {seconds:g} s and was stopped",
                     "{name}：读取超过 {seconds:g} 秒，已停止"),
    "duplicate": ("duplicate of {of}", "与 {of} 重复"),
    "replaced": ("replaced document {id}", "替换了文档 {id}"),
    "cancelled": ("cancelled before it was stored", "在存入之前已取消"),
    "prompt_too_long": ("The request is {length} characters long; the limit is {limit}. Shorten it, or add "
                        "long material to the knowledge base and refer to it.",
                        "请求有 {length} 个字符，上限是 {limit}。请缩短，或把长材料加入知识库后再引用。"),
    "prompt_too_many_tokens": ("The prompt is {tokens} tokens long; this model reads at most {limit}. Shorten "
                               "the request or draw on fewer sources.",
                               "提示有 {tokens} 个词元，这个模型最多读 {limit} 个。请缩短请求或少用几个来源。"),
    "query_too_long": ("The search text is {length} characters long; the limit is {limit}.",
                       "搜索文字有 {length} 个字符，上限是 {limit}。"),
    "query_no_words": ("Nothing to search for in {text!r}: type some words", "{text!r} 里没有可搜索的内容：请输入一些词"),
    "not_one_of": ("“{field}” must be one of {choices} but is {value!r}", "“{field}”必须是 {choices} 之一，而不是 {value!r}"),
    "not_multiple_of_8": ("“{field}” must be divisible by 8 but is {value}", "“{field}”必须是 8 的倍数，而不是 {value}"),
    "image_prompt_empty": ("Describe the picture: the prompt is empty.", "请描述画面：提示词是空的。"),
    "collection_name_empty": ("A collection needs a name", "文集需要一个名称"),
    "collection_name_too_long": ("A collection name must be at most 200 characters but has {length}",
                                 "文集名称最多 200 个字符，现在有 {length} 个"),
    "collection_name_slash": ("A collection name cannot contain '/': {name!r}", "文集名称不能包含“/”：{name!r}"),
    "collection_name_control": ("A collection name cannot contain control or formatting characters: {name!r}",
                                "文集名称不能包含控制字符或不可见的格式字符：{name!r}"),
    "share_role": ("Share as 'read', 'write' or 'none', not {role!r}", "共享权限只能是 read、write 或 none，而不是 {role!r}"),
    "own_already": ("You own this collection already", "这个文集本来就是你的"),
    "reembedding": ("The library is being embedded again with {model}; add files when that has finished",
                    "知识库正在用 {model} 重新嵌入；请等它完成后再添加文件（进度见“设置”）"),
    "nothing_more": ("The sources of this draft have nothing more that it does not already say",
                     "这篇草稿的来源里已没有它还没说过的内容：请补充相关资料，或从更多文集写一篇新草稿。"),
    "query_empty": ("Type something to search for: the query is empty", "请输入要搜索的内容：搜索词是空的"),
    "out_of_range": ("“{field}” must be between {low} and {high} but is {value}",
                     "“{field}”必须在 {low} 到 {high} 之间，而不是 {value}"),
    "busy": ("The studio is busy with other drafts; try again in a minute.", "工作室正忙于其他草稿；请一分钟后再试。"),
    "no_collection": ("There is no collection called {name!r}", "没有名为 {name!r} 的文集"),
    "unknown_collection": ("Unknown collection: {names}", "未知的文集：{names}"),
    "collection_exists": ("A collection called {name!r} already exists", "名为 {name!r} 的文集已经存在"),
    "no_document": ("There is no document with id {id}", "没有编号为 {id} 的文档"),
    "no_passage": ("There is no passage with id {id}", "没有编号为 {id} 的段落"),
    "no_generation": ("There is no generation with id {id}", "没有编号为 {id} 的记录"),
    "not_text_draft": ("Generation {id} is not a text draft", "记录 {id} 不是文字草稿"),
    "read_only": ("Collection {name!r} is shared with you read-only", "文集 {name!r} 与你共享的是只读权限"),
    "owner_only": ("Only the owner of {name!r} can do that", "只有 {name!r} 的所有者才能这样做"),
    "request_empty": ("Say what to write: the request is empty.", "请说明要写什么：请求是空的。"),
    "log_in_first": ("Log in first: this studio has accounts.", "请先登录：这个工作室设有账户。"),
}

# The argument a reason names (``field``), as the label the writer sees on the page.
FIELDS = {"max_new_tokens": "write.max_new_tokens", "temperature": "write.temperature", "seed": "write.seed",
          "num_inference_steps": "images.steps", "guidance_scale": "images.guidance", "width": "images.width",
          "height": "images.height", "batch_count": "images.batch", "strength": "images.strength",
          "k": "kb.k", "id": "history.id"}
