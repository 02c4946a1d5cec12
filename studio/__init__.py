"""Inkstone's studio: understanding, generation, history and the browser UI around the
knowledge base. Only :mod:`studio.ui` imports gradio; importing any of it loads no model."""
