"""Sphinx configuration: furo, MyST Markdown pages, numpydoc API pages.

Build (warnings are errors): ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
"""
from __future__ import annotations

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)   # the checkout, with its extension built in place or installed

import fastzip  # noqa: E402  (after the sys.path insert above)

project = "fastzip"
author = "the fastzip authors"
copyright = "2024-2026, the fastzip authors"
release = fastzip.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: GitHub-style heading anchors, so links work on GitHub and in the site alike
myst_heading_anchors = 3
myst_enable_extensions = ["deflist", "colon_fence", "dollarmath"]

# autodoc + numpydoc
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False   # an undocumented property would show the docstring of `property`
autodoc_typehints = "none"          # numpydoc's Parameters sections say it
autodoc_default_options: dict[str, object] = {}   # every page lists its members
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

html_theme = "furo"
html_title = f"fastzip {release}"
html_static_path: list[str] = []
html_extra_path: list[str] = []
suppress_warnings = ["myst.header"]

# The committed benchmark plots live in bench/results/; pages include them by relative path.
