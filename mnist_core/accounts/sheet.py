"""The printable sheet of sign-in codes: one self-contained HTML page (no scripts, no outside files) with a
card per student to cut out, ready for the browser's Print."""

from __future__ import annotations

import html
import time

from mnist_core.accounts.classes import ClassInfo, NewCode

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5cm; color: #111; }
h1 { font-size: 16pt; margin: 0 0 .2cm; } p.how { margin: 0 0 .6cm; font-size: 10pt; }
.cards { display: grid; grid-template-columns: repeat(2, 1fr); gap: .4cm; }
.card { border: 1px dashed #555; padding: .4cm; break-inside: avoid; }
.name { font-size: 12pt; font-weight: 600; } .label { font-size: 9pt; color: #333; margin-top: .2cm; }
.code { font-family: ui-monospace, monospace; font-size: 18pt; letter-spacing: .08em; }
@media print { body { margin: 1cm; } }
"""


def sheet_html(info: ClassInfo, codes: list[NewCode], address: str = "") -> str:
    """The sheet for `codes` of the class `info`; `address` is where students open Digit Lab (if known)."""
    where = f" at <b>{html.escape(address)}</b>" if address else ""
    cards = "\n".join(
        f'<div class="card"><div class="name">{html.escape(c.name)}</div>'
        f'<div class="label">Class code</div><div class="code">{html.escape(info.code)}</div>'
        f'<div class="label">Your code</div><div class="code">{html.escape(c.code)}</div></div>'
        for c in codes
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Sign-in codes: {html.escape(info.name)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>Digit Lab sign-in codes: {html.escape(info.name)}</h1>\n"
        f'<p class="how">Open Digit Lab{where}, choose <b>Sign in with your class code</b> and type both codes. '
        f"Keep your code to yourself. Printed {time.strftime('%Y-%m-%d %H:%M')}; codes made later replace "
        f'these.</p>\n<div class="cards">\n{cards}\n</div>\n</body></html>\n'
    )
