"""The model picker: the studio's own models and every connected server's, with what is known
about each (backend, context window, languages it writes, speed measured on first use)."""

from __future__ import annotations

import gradio as gr

from studio.catalog import ModelChoice
from studio.ui.common import writer_studio
from studio.ui.handling import handler
from studio.ui.i18n import explain, say, t

LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


def facts(request, choice: ModelChoice | None) -> str:
    """One line about ``choice`` in the browser's language."""
    if choice is None:
        return ""
    unknown = say(request, "picker.unknown")
    languages = (", ".join(LANGUAGE_NAMES.get(code, code) for code in choice.languages)
                 if choice.languages else unknown)
    speed = (say(request, "picker.speed", tps=choice.tokens_per_s) if choice.tokens_per_s
             else say(request, "picker.speed_none"))
    return say(request, "picker.facts", backend=choice.backend, context=choice.context_window or unknown,
               languages=languages, speed=speed)


def model_picker() -> tuple[gr.Dropdown, gr.Markdown, gr.Button]:
    """Lay out the picker (filled when the page loads, see :func:`wire_model_picker`)."""
    with gr.Row():
        model = gr.Dropdown([("", "")], value="", label=t("picker.model"), scale=4, elem_id="model-picker")
        refresh = gr.Button(t("picker.refresh"), scale=1, min_width=80)
    about = gr.Markdown("", elem_id="model-facts")
    return model, about, refresh


def wire_model_picker(studio, demo: gr.Blocks, model: gr.Dropdown, about: gr.Markdown, refresh: gr.Button) -> None:
    """Fill the picker on page load and on refresh; describe the model chosen."""

    @handler
    def listed(current, request: gr.Request):
        choices, problems = writer_studio(studio, request).catalog.choices()
        keys = [c.key for c in choices]
        value = current if current in keys else ""
        chosen = next(c for c in choices if c.key == value)
        line = facts(request, chosen)
        if problems:
            line += "  \n" + say(request, "picker.problems", problems="; ".join(explain(request, p) for p in problems))
        return gr.update(choices=[(c.label, c.key) for c in choices], value=value), line

    @handler
    def described(current, request: gr.Request):
        choices, _ = writer_studio(studio, request).catalog.choices()
        return facts(request, next((c for c in choices if c.key == current), None))

    demo.load(listed, model, [model, about], api_name=False)
    refresh.click(listed, model, [model, about], api_name="list_models")
    model.input(described, model, about, api_name=False)


def image_model_picker(studio) -> gr.Dropdown:
    """The Images tab's picker: the studio's own image model and every image connection."""
    return gr.Dropdown([], value="", label=t("picker.image_model"), allow_custom_value=True,
                       elem_id="image-model-picker")


def wire_image_model_picker(studio, demo: gr.Blocks, model: gr.Dropdown, generate: gr.Button) -> None:
    """Fill the picker when the page loads (and when it is opened); Generate can be pressed
    once there is a model, an image connection added in Settings included."""

    @handler
    def listed(current, request: gr.Request):
        s = writer_studio(studio, request)
        choices = s.catalog.image_choices(s.images)
        keys = [key for _, key in choices]
        return (gr.update(choices=choices, value=current if current in keys else (keys[0] if keys else "")),
                gr.update(interactive=bool(keys)))

    demo.load(listed, model, [model, generate], api_name=False)
    model.focus(listed, model, [model, generate], api_name=False)
