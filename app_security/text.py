"""Text from outside shown as text: run names, imported status messages, file names, URL values.

Streamlit renders Markdown in st.markdown, st.info/success/warning/error, st.caption, st.toast and
widget labels: links, auto-loading images, HTML, emphasis, `:material/...:` icons, emoji shortcodes,
`:red[...]` colour directives and `$` LaTeX. `escape_markdown` makes any string render as itself.
"""

from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark, and then is plain text.
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
# GFM links bare http(s)://, www. and a@b.c in the parsed text, escapes or not: an invisible word
# joiner (U+2060) inside each makes them ordinary words that still read the same.
_JOINER = "\u2060"
_AUTOLINKS = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)")
MAX_CHARS = 2_000  # a status message or name longer than this is cut, with an ellipsis


def escape_markdown(text: object, max_chars: int = MAX_CHARS) -> str:
    """`text` (any value, shown with str) as Markdown that renders as the characters it holds.

    Line breaks become spaces (a newline could start a heading, list or table), text longer than
    `max_chars` is cut with an ellipsis, and bare web and mail addresses get an invisible word joiner
    so that they are not turned into links.
    """
    plain = re.sub(r"[\r\n]+", " ", str(text))
    if len(plain) > max_chars:
        plain = plain[: max_chars - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", _AUTOLINKS.sub(_JOINER, plain))
