"""escape_markdown (issue 13, item 4): text from outside renders as itself, never as links, images or markup."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app_security.text import MAX_CHARS, escape_markdown

ROOT = Path(__file__).resolve().parent.parent
J = "\u2060"  # the word joiner that stops bare addresses from becoming links

CASES = [
    ("![](http://host/u.png)", f"\\!\\[\\]\\(http\\:{J}\\/\\/host\\/u\\.png\\)"),
    ("[Session expired](https://evil.example)", f"\\[Session expired\\]\\(https\\:{J}\\/\\/evil\\.example\\)"),
    ("<img src=x onerror=alert(1)>", "\\<img src\\=x onerror\\=alert\\(1\\)\\>"),
    ("**bold** _it_ ~~s~~ `c`", "\\*\\*bold\\*\\* \\_it\\_ \\~\\~s\\~\\~ \\`c\\`"),
    (":material/home: :smile:", "\\:material\\/home\\: \\:smile\\:"),
    (":red[alarm] :blue-badge[x]", "\\:red\\[alarm\\] \\:blue\\-badge\\[x\\]"),
    ("$x^2$ $$y$$", "\\$x\\^2\\$ \\$\\$y\\$\\$"),
    ("# heading", "\\# heading"),
    ("line 1\nline 2\r\n- item", "line 1 line 2 \\- item"),
    ("www.evil.example", f"www{J}\\.evil\\.example"),
    ("bob@evil.example", f"bob{J}\\@evil\\.example"),
    ("back\\slash", "back\\\\slash"),
    ("plain words 123", "plain words 123"),
    (42, "42"),
]


@pytest.mark.parametrize(("text", "escaped"), CASES, ids=[str(c[0])[:30] for c in CASES])
def test_escaped(text: object, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def unescape(markdown: str) -> str:
    """What CommonMark shows for escaped text: each backslash-escape as its character, joiners invisible."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(J, "")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reads_the_same_once_escaped(text: str) -> None:
    escaped = escape_markdown(text)
    assert unescape(escaped) == re.sub(r"[\r\n]+", " ", text).replace(J, "")
    assert not re.search(r"(?<!\\)[\[\]()<>*_`$:!#|~]", escaped.replace("\\\\", ""))  # no bare markup character


def test_long_text_is_cut() -> None:
    assert len(unescape(escape_markdown("x" * 10_000))) == MAX_CHARS


APP = """
import json, sys
import streamlit as st
sys.path.insert(0, {root!r})
from app_security.text import escape_markdown
texts = json.loads({texts!r})
for i, text in enumerate(texts):
    with st.container(key=f"case{{i}}"):
        st.markdown(escape_markdown(text))
    st.info(escape_markdown(text))
"""


@pytest.mark.slow
def test_a_browser_shows_the_text_and_no_markup(tmp_path: Path) -> None:
    """Real Streamlit, real Chromium: each case is one paragraph of plain text, exactly the input."""
    import json

    from browser_utils import _stop, chromium_path, free_port, launch_chromium, wait_until_healthy

    if chromium_path() is None:
        pytest.skip("no system Chromium")
    from playwright.sync_api import sync_playwright

    texts = [str(t) for t, _ in CASES] + ["mail: bob@evil.example <https://evil.example> http://1.2.3.4:80/p"]
    (tmp_path / "show.py").write_text(APP.format(root=str(ROOT), texts=json.dumps(texts)))
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "show.py", "--server.port", str(port)]
    server = subprocess.Popen(
        [*command, "--server.headless", "true"], cwd=tmp_path, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_until_healthy(f"http://localhost:{port}", server)
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page()
            page.goto(f"http://localhost:{port}")
            page.wait_for_selector(f".st-key-case{len(texts) - 1} [data-testid=stMarkdownContainer]", timeout=60_000)
            time.sleep(0.5)
            for i, text in enumerate(texts):
                shown = page.locator(f".st-key-case{i} [data-testid=stMarkdownContainer]")
                assert shown.inner_text().replace(J, "") == re.sub(r"[\r\n]+", " ", text)
                assert set(re.findall(r"<(\w+)", shown.inner_html())) == {"p"}, shown.inner_html()
            assert page.locator("[data-testid=stAlert] a, [data-testid=stAlert] img").count() == 0
            browser.close()
    finally:
        _stop(server)
