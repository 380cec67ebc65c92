"""Widgets as still pictures, and a check that every figure reached the page.

A widget is live only next to a kernel. The executed notebook keeps each widget's final state (nbclient stores
it in the notebook's metadata, image bytes included), so the picture the widget showed when the notebook
finished, for instance the dashboard's plot after ``dash.run(wait=True)``, is on hand: the first non-empty
``Image`` inside the widget replaces its view, with a line saying that the widget is live in JupyterLab and Colab.
A widget without a picture, such as tqdm's progress bar, shows as the text it last displayed ("training: 100%
20/20 [...]"), like any printed output, and one with neither is left out. The widget state itself is not put into
the page (no widget JavaScript is loaded: ``nb_ipywidgets_js = {}``).

The figure check fails the build (a warning, and ``make site`` runs with ``-W``) when a matplotlib figure
reached the output only as its text form ``<Figure size 640x480 with 1 Axes>`` (it was drawn without the inline
backend), or when a notebook that draws has no image output at all.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
from base64 import b64decode
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

VIEW_SCRIPT = '<script type="application/vnd.jupyter.widget-view+json">'
MODEL_REF = re.compile(r"IPY_MODEL_([0-9a-f]{32})")
FIGURE_TEXT = re.compile(r"^<Figure size \d+(\.\d+)?x\d+(\.\d+)? with \d+ Axes>$")
DRAWS = re.compile(r"\bplt\.|\bplot_[a-z_]+\(|\.imshow\(|\.plot\(|\bfigure\(")
LIVE_NOTE = ("This is a still picture of the widget when the notebook finished. The widget is live in "
             "JupyterLab and in Colab: open the notebook there to move its sliders and press its buttons.")


def _widget_state(env, docname: str) -> dict:
    js_files = getattr(env, "nb_metadata", {}).get(docname, {}).get("js_files", {})
    entry = js_files.pop("ipywidgets_state", None)   # never put into the page: no JavaScript would read it
    return json.loads(entry[1]["body"]).get("state", {}) if entry is not None else {}


def _models(state: dict, model_id: str):
    """The models reachable from ``model_id``, breadth first through the references in their states."""
    queue, seen = [model_id], set()
    while queue:
        current = queue.pop(0)
        if current in seen or current not in state:
            continue
        seen.add(current)
        yield state[current]
        queue += MODEL_REF.findall(json.dumps(state[current].get("state", {})))


def widget_picture(state: dict, model_id: str) -> bytes | None:
    """The first non-empty ``Image`` reachable from ``model_id`` (breadth first through its children).

    >>> box, empty, plot = "a" * 32, "b" * 32, "c" * 32
    >>> state = {box: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{empty}", f"IPY_MODEL_{plot}"]}},
    ...          empty: {"model_name": "ImageModel", "state": {}, "buffers": []},
    ...          plot: {"model_name": "ImageModel", "state": {},
    ...                 "buffers": [{"path": ["value"], "data": "iVBORw==", "encoding": "base64"}]}}
    >>> widget_picture(state, box)
    b'\\x89PNG'
    >>> widget_picture(state, empty) is None
    True
    """
    for model in _models(state, model_id):
        if model.get("model_name") == "ImageModel":
            for buffer in model.get("buffers", []):
                if buffer.get("path") == ["value"] and buffer.get("data"):
                    return b64decode(buffer["data"])
    return None


def widget_text(state: dict, model_id: str) -> str:
    """The text a widget shows: its labels and HTML as plain text (a progress bar's percentage if that is all).

    >>> bar, left, progress, right = "a" * 32, "b" * 32, "c" * 32, "d" * 32
    >>> children = [f"IPY_MODEL_{m}" for m in (left, progress, right)]
    >>> state = {bar: {"model_name": "HBoxModel", "state": {"children": children}},
    ...          left: {"model_name": "HTMLModel", "state": {"value": "training: 100%"}},
    ...          progress: {"model_name": "FloatProgressModel", "state": {"value": 20, "max": 20}},
    ...          right: {"model_name": "HTMLModel", "state": {"value": " 20/20 [00:02&lt;00:00,  9.5it/s]"}}}
    >>> widget_text(state, bar)
    'training: 100% 20/20 [00:02<00:00, 9.5it/s]'
    >>> widget_text({bar: {"model_name": "IntProgressModel", "state": {"value": 1, "max": 4}}}, bar)
    '25%'
    """
    texts, bars = [], []
    for model in _models(state, model_id):
        name, values = model.get("model_name", ""), model.get("state", {})
        if name in ("HTMLModel", "LabelModel", "HTMLMathModel") and values.get("value"):
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", str(values["value"]))))
        elif name in ("FloatProgressModel", "IntProgressModel") and values.get("max"):
            bars.append(f"{100 * values.get('value', 0) / values['max']:.0f}%")
    # tqdm writes the percentage into its text as well: a bar's own number only when there is no text.
    return " ".join(" ".join(texts or bars).split())


class StaticWidgets(SphinxTransform):
    default_priority = 400

    def apply(self) -> None:
        docname = self.env.docname
        if not self.env.doc2path(docname).name.endswith(".ipynb"):
            return
        state = _widget_state(self.env, docname)
        for raw in list(self.document.findall(nodes.raw)):
            if raw.astext().startswith(VIEW_SCRIPT):
                raw.replace_self(self._still(state, raw.astext()))   # an empty list removes it
        self._check_figures(docname)

    def _still(self, state: dict, script: str) -> list[nodes.Element]:
        match = re.search(r"model_id\W+([0-9a-f]{32})", script)
        if not match:
            return []
        picture = widget_picture(state, match.group(1))
        if not picture:
            text = widget_text(state, match.group(1))
            return [nodes.literal_block(text, text, classes=["output", "text_plain"], language="none")] if text else []
        folder = Path(self.env.mystnb_config.output_folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"widget-{hashlib.sha256(picture).hexdigest()[:20]}.png"
        if not path.exists():
            path.write_bytes(picture)
        uri = "/" + os.path.relpath(path.resolve(), Path(self.app.srcdir).resolve())
        box = nodes.container(classes=["static-widget"])
        box += nodes.image(uri=uri, alt="the widget as it looked when the notebook finished")
        box += nodes.paragraph("", "", nodes.emphasis(LIVE_NOTE, LIVE_NOTE))
        return [box]

    def _check_figures(self, docname: str) -> None:
        outputs = [node for node in self.document.findall(nodes.container) if "cell_output" in node["classes"]]
        images = sum(1 for output in outputs for _ in output.findall(nodes.image))
        for output in outputs:
            for block in output.findall(nodes.literal_block):
                if FIGURE_TEXT.match(block.astext().strip()) and not _has_image_alternative(block):
                    logger.warning(f"a figure reached the output only as text ({block.astext().strip()}): it "
                                   "was not drawn by the inline backend", location=block,
                                   type="course", subtype="figure")
        source = self.env.doc2path(docname).read_text(encoding="utf-8")
        if images == 0 and DRAWS.search(source):
            logger.warning("the notebook draws figures but its page has no image output",
                           location=docname, type="course", subtype="figure")


def _has_image_alternative(block: nodes.Node) -> bool:
    """Whether the text sits in a mime bundle (one output, several forms; the page shows one) that has an image."""
    node = block.parent
    while node is not None and not (isinstance(node, nodes.Element) and node.get("nb_element") == "mime_bundle"):
        node = node.parent
    return node is not None and any(str(child.get("mime_type", "")).startswith("image/") for child in node.children)


def setup(app: Sphinx) -> dict:
    app.add_transform(StaticWidgets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
