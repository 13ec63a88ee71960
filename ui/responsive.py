"""Columns that wrap onto more rows on narrow screens (tablets beside the sidebar, phones).

Streamlit's columns share the row whatever its width: at 820 px beside the sidebar Train's three setting
boxes were 120 px wide (their labels cut off, a toggle hidden) and Diagnostics' numbers showed "99…".
`columns` is `st.columns` in a keyed container whose columns wrap once each would be narrower than
`min_rem`; on a wide screen nothing changes.
"""

from __future__ import annotations

import streamlit as st


def columns(spec, *, key: str, min_rem: float, **kwargs) -> list:
    """`st.columns(spec, **kwargs)` whose columns are never narrower than `min_rem` (or the whole row):
    the ones that do not fit go to the next row and share it."""
    box = st.container(key=key)
    box.html(f"<style>{wrap_css(key, min_rem)}</style>")
    return box.columns(spec, **kwargs)


def wrap_css(key: str, min_rem: float) -> str:
    """The CSS that lets the columns in the container `key` wrap at `min_rem`."""
    scope = f".st-key-{key} [data-testid='stHorizontalBlock']"
    column = f"{scope} > [data-testid='stColumn']"
    return f"{scope} {{ flex-wrap: wrap; }} {column} {{ min-width: min({min_rem}rem, 100%); }}"
