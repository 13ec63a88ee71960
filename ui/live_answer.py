"""The Draw page's answer for screen readers: one `aria-live="polite"` region whose text is only the answer.

A screen reader announces a live region when its text changes, and only if the region was already on the
page: an `st.html` element is replaced on every stroke (a new node each time), so it would either say
nothing or repeat every probability. This component stays mounted under its key, and its script writes the
text only when it differs, so the answer is announced once when it changes and never when it stays.
"""

from __future__ import annotations

import streamlit as st

SR_ONLY_CSS = (  # on screen it takes no room; screen readers still read it
    "position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);white-space:nowrap;border:0"
)
_JS = """
export default function (component) {
  const { data, parentElement } = component;
  const region = parentElement.querySelector('.dl-live');
  const text = (data && data.text) || '';
  if (region && region.textContent !== text) region.textContent = text;
}
"""
_live_region = st.components.v2.component(
    "digit_lab.live_answer",
    html=f'<div class="dl-live" role="status" aria-live="polite" aria-atomic="true" style="{SR_ONLY_CSS}"></div>',
    js=_JS,
    isolate_styles=False,
)


def spoken_answer(prediction) -> str:
    """What the region says for a prediction: the digit, "not a digit", or nothing before a drawing."""
    if prediction is None:
        return ""
    return f"The model says {prediction.digit}" if prediction.is_digit else "The model says: not a digit"


def live_answer(slot, text: str, key: str) -> None:
    """Put the live region, saying `text`, in `slot` (an `st.empty` that comes at the same place on every run,
    so the region is never remounted)."""
    with slot:
        _live_region(data={"text": text}, key=key, height=0)
