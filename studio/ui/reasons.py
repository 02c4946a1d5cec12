"""The words for reasons that come from knowledge/ and studio/, by their stable code
(:attr:`knowledge.errors.UserError.code`), in English and Simplified Chinese; ``i18n.reason``
picks and fills them."""

from __future__ import annotations

# Reasons from knowledge/ and studio/ by their code (knowledge.errors.UserError.code). The English
# column is the gist of what the domain code says; English pages show the domain's own words,
# except for a reason naming a ``field``, which they say from here with the field's page label.
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
    "model_is_default": ("The embedded model is the studio's default here: choose the default.",
                         "嵌入的模型在这里就是默认模型：请选择默认模型。"),
    "model_down": ("Model {model} on {connection} is not available now: {why}",
                   "{connection} 上的模型 {model} 现在不可用：{why}"),
    "made_with_unavailable": ("Generation {id} was made with {model}, which is not available now: {why}",
                              "记录 {id} 是用 {model} 生成的，它现在不可用：{why}"),
    "not_listed": ("{connection}: {why}", "{connection}：{why}"),
    # Settings: the connection form's checks and what a server answered when tested
    "connection_name": ("Name the connection: 1 to 60 characters, no '/'.", "请为连接命名：1 到 60 个字符，不含“/”。"),
    "connection_exists": ("A connection named {name!r} exists already; choose another name or edit it.",
                          "名为 {name!r} 的连接已经存在；请换一个名称，或编辑已有的连接。"),
    "no_connection": ("No connection {id}; it may have been removed.", "没有编号为 {id} 的连接；它可能已被删除。"),
    "no_connection_named": ("No connection named {name!r}; it may have been removed or renamed in Settings.",
                            "没有名为 {name!r} 的连接；它可能已在“设置”中被删除或改名。"),
    "base_url_not_web": ("The server's base URL must start with http:// or https:// but is {url!r} "
                         "(e.g. http://127.0.0.1:8000/v1).",
                         "服务器的基础 URL 必须以 http:// 或 https:// 开头，而不是 {url!r}（例如 http://127.0.0.1:8000/v1）。"),
    "image_model_empty": ("Name the image model: a diffusers model folder or a hub id.",
                          "请填写图像模型：diffusers 模型文件夹或 hub id。"),
    "key_lost": ("A stored API key cannot be decrypted with {file}: the key file was replaced. Enter the API "
                 "key again in Settings.", "无法用 {file} 解密已保存的 API 密钥：密钥文件已被替换。请在“设置”中重新输入 API 密钥。"),
    "url_not_web": ("{url!r} is not a web address: it must start with http:// or https://",
                    "{url!r} 不是网址：必须以 http:// 或 https:// 开头"),
    "server_no_answer": ("No answer from {url} within {seconds:g} s: is the address right, and can this machine "
                         "reach it?", "{url} 在 {seconds:g} 秒内没有响应：地址对吗？这台机器能访问到它吗？"),
    "server_slow": ("{url} accepted the connection but did not answer within {seconds:g} s: the server may be busy "
                    "or still loading.", "{url} 接受了连接，但在 {seconds:g} 秒内没有回答：服务器可能正忙或仍在加载。"),
    "server_tls": ("The TLS (https) handshake with {url} failed ({detail}): check http:// against https:// and "
                   "the server's certificate.", "与 {url} 的 TLS（https）握手失败（{detail}）：请核对 http:// 与 https://，"
                   "并检查服务器的证书。"),
    "server_refused": ("Nothing is listening at {url} (connection refused): is the server running, and is the "
                       "port right?", "{url} 上没有服务在监听（连接被拒绝）：服务器在运行吗？端口对吗？"),
    "server_unreachable": ("{url} could not be reached ({detail}): check the host name.",
                           "无法访问 {url}（{detail}）：请检查主机名。"),
    "server_failed": ("{url} could not be asked for its models ({detail}).", "无法向 {url} 查询模型列表（{detail}）。"),
    "key_refused": ("{url} refused the API key ({status}): check the key.", "{url} 拒绝了 API 密钥（{status}）：请检查密钥。"),
    "models_404": ("{url}/models does not exist (404): the base URL of an OpenAI-compatible server usually ends "
                   "in /v1, e.g. http://127.0.0.1:8000/v1", "{url}/models 不存在（404）：兼容 OpenAI 的服务器的基础 URL "
                   "通常以 /v1 结尾，例如 http://127.0.0.1:8000/v1"),
    "server_status": ("{url} answered {status}: {detail}", "{url} 返回了 {status}：{detail}"),
    "not_openai": ("{url}/models answered, but not as an OpenAI-compatible server does (no list of models): "
                   "check the URL.", "{url}/models 有回答，但不像兼容 OpenAI 的服务器（没有模型列表）：请检查 URL。"),
    "not_diffusers_folder": ("{model} has no model_index.json: it is not a diffusers model folder.",
                             "{model} 里没有 model_index.json：这不是 diffusers 模型文件夹。"),
    "image_model_missing": ("{model!r} is neither a folder here nor a model in the local Hugging Face cache; the "
                            "studio runs offline, so download it first.",
                            "{model!r} 既不是这里的文件夹，也不在本地 Hugging Face 缓存中；工作室离线运行，请先下载。"),
    "asks_for_picture": ("This asks for a picture, not text: use the Images tab.", "这是要一张图，不是文字：请用“配图”页。"),
    "continue_whole": ("`continue` works on the whole draft; clear the selection.", "“续写”作用于整篇草稿；请清空选中的文字。"),
    "selection_gone": ("The selected text is not in this draft any more; select it again.",
                       "选中的文字已不在这篇草稿里；请重新选择。"),
    "rerun_other_model": ("Generation {id} was made with {model} on {backend}; this studio runs {current} on "
                          "{current_backend}, which would not reproduce it.",
                          "记录 {id} 是用 {backend} 上的 {model} 生成的；这个工作室运行的是 {current_backend} 上的 "
                          "{current}，无法重现它。"),
    "illustrate_what": ("Choose what to illustrate: a draft, a passage, or some text.",
                        "请选择要配图的内容：一篇草稿、一个段落或一段文字。"),
    "no_image_model_configured": ("No image model is configured.", "没有配置图像模型。配图需要一个 diffusers 文生图模型，"
                                  "它无法随 Inkstone 一起提供：请在联网的机器上运行 `huggingface-cli download "
                                  "stabilityai/sd-turbo --local-dir models/sd-turbo`，把文件夹复制到这里，再以 "
                                  "INKSTONE_IMAGE_MODEL=models/sd-turbo 启动 Inkstone；或在“设置”中添加图像模型。"),
    "image_model_unloadable": ("Image model {model!r} could not be loaded: {detail}",
                               "无法加载图像模型 {model!r}：{detail}。INKSTONE_IMAGE_MODEL 必须是 diffusers 文件夹或已缓存的 hub id。"),
    "not_image": ("Generation {id} is not an image", "记录 {id} 不是图片"),
    "edit_empty": ("The edited draft is empty; write something or keep the old version.",
                   "编辑后的草稿是空的；请写点内容，或保留旧版本。"),
    "start_image_unreadable": ("The starting image could not be read ({detail})", "无法读取起始图片（{detail}）"),
    "server_stopped": ("The text server at {url} stopped answering in the middle of the draft ({detail}); nothing "
                       "was saved. Check the server and write again.",
                       "{url} 的文本服务器在写到一半时停止了响应（{detail}）；没有保存任何内容。请检查服务器后重新写作。"),
    "server_unreachable_writing": ("The text server at {url} could not be reached ({detail}).",
                                   "无法访问 {url} 的文本服务器（{detail}）。请检查它的地址（“设置”或 "
                                   "INKSTONE_TEXT_API_URL）以及服务器是否在运行。"),
    "embedding_model_unloadable": ("Embedding model {model} could not be loaded ({why}).",
                                   "无法加载嵌入模型 {model}（{why}）。"),
    "embedding_needs_package": ("This embedding model needs the {package} package: pip install {package}",
                                "这个嵌入模型需要 {package} 软件包：pip install {package}"),
    "reembedding_already": ("The library is already being embedded again with {model}.",
                            "资料库已经在用 {model} 重新嵌入。"),
    "embedded_already": ("The library is embedded with {model} already.", "资料库已经是用 {model} 嵌入的。"),
    "wrong_language": ("This request is in {language}, but {model} writes only {writes}: {offer}",
                       "这个请求是{language}的，但 {model} 只会写{writes}：它的草稿只会是你的资料原句，不会用{language}"
                       "改写。{offer}或勾选“即使模型不写请求的语言也照写”。"),
    "models_that_write": ("Models that write {language}: {models}.", "会写{language}的模型：{models}。"),
    "none_write": ("No connected model is known to write {language}.",
                   "已连接的模型中没有已知会写{language}的：请在“设置”中添加一个（例如 Ollama 或 llama.cpp 服务器上的 Qwen 模型）。"),
    "model_gone": ("{connection} no longer serves {model}; choose another model.",
                   "{connection} 已不再提供 {model}；请换一个模型。"),
    "no_model": ("No model {key!r}: choose one from the list.", "没有模型 {key!r}：请从列表中选择。"),
    "connection_gone": ("Model {model} was on connection {connection!r}, which is not in Settings any more",
                        "模型 {model} 所在的连接 {connection!r} 已不在“设置”中；请换一个模型。"),
    "no_image_model": ("No image model {key!r} in Settings any more; choose another model.",
                       "“设置”中已没有配图模型 {key!r}；请换一个模型。"),
    "sharing_needs_accounts": ("Sharing needs accounts", "共享需要账户：请用 `python -m studio users add 用户名` 添加。"),
    "admin_only": ("Only an admin can rebuild the index.", "只有管理员可以重建索引。"),
    "query_empty": ("Type something to search for: the query is empty", "请输入要搜索的内容：搜索词是空的"),
    "out_of_range": ("“{field}” must be between {low} and {high} but is {value}",
                     "“{field}”必须在 {low} 到 {high} 之间，而不是 {value}"),
    "above_at_most": ("“{field}” must be above {low} and at most {high} but is {value}",
                      "“{field}”必须大于 {low} 且不超过 {high}，而不是 {value}"),
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

# Values a reason names by a language code (``"zh"``), said as the language's name on the page.
LANGUAGE_VALUES = ("language", "writes")

# The argument a reason names (``field``), as the label the writer sees on the page.
FIELDS = {"max_new_tokens": "write.max_new_tokens", "temperature": "write.temperature", "seed": "write.seed",
          "num_inference_steps": "images.steps", "guidance_scale": "images.guidance", "width": "images.width",
          "height": "images.height", "batch_count": "images.batch", "strength": "images.strength",
          "k": "kb.k", "id": "history.id", "kind": "settings.kind", "context_window": "settings.context",
          "scheduler": "images.scheduler", "same_name": "kb.same_name", "strategy": "write.strategy",
          "instruction": "write.revise_how"}
