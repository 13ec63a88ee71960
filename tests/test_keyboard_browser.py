"""Digit Lab with the keyboard alone, and the Draw page's answer as a screen reader hears it (real Chromium).

Every page: Tab alone reaches every control a mouse could use (buttons, inputs, links, the canvas's own
toolbar), and the accessibility tree names them. Enter and Space work the controls they should. The Draw
page's `aria-live` region changes exactly when the predicted digit changes, not on every stroke.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_utils import (
    canvas_box,
    chromium_path,
    draw_strokes,
    launch_chromium,
    open_page,
    streamlit_server,
    wait_for_charts,
)

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="no system Chromium (chromium) on PATH"),
]

PAGES = ("", "train", "draw", "my_digits", "diagnostics", "lessons", "class")
MAX_TABS = 250  # more Tab stops than any page has: a page that needs more traps focus somewhere

# Every control a mouse can use, in the page and in components' shadow roots; each gets a number.
TABBABLE_JS = """() => {
  const selector = 'a[href], button, input, select, textarea, summary, [tabindex]';
  const roots = [document], found = [];
  for (let i = 0; i < roots.length; i++) {
    for (const e of roots[i].querySelectorAll('*')) if (e.shadowRoot) roots.push(e.shadowRoot);
    for (const e of roots[i].querySelectorAll(selector)) {
      const r = e.getBoundingClientRect(), style = getComputedStyle(e);
      if (e.disabled || e.tabIndex < 0 || e.type === 'hidden' || r.width === 0 || r.height === 0
          || style.visibility === 'hidden' || e.closest('[inert],[aria-hidden="true"]')) continue;
      found.push(e);
    }
  }
  // a radio group is one Tab stop (arrow keys move in it): its radios share one number
  const group = e => e.getAttribute('role') === 'radio' && e.closest('[role=radiogroup]');
  const groups = new Map(), named = [];
  for (const e of found) {
    const g = group(e);
    if (g && groups.has(g)) { e.dataset.a11yId = groups.get(g); continue; }
    e.dataset.a11yId = String(named.length);
    if (g) groups.set(g, e.dataset.a11yId);
    named.push(e);
  }
  return named.map(e => `${e.tagName.toLowerCase()} ${e.getAttribute('aria-label') || e.innerText || e.value || ''}`
                          .replace(/\\s+/g, ' ').trim().slice(0, 60));
}"""
FOCUSED_JS = """() => {  // the focused element, looking into shadow roots; its number from TABBABLE_JS
  let e = document.activeElement;
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
  return e && e !== document.body ? (e.dataset.a11yId ?? 'new') : null;
}"""


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keyboard") / "runs"


@pytest.fixture(scope="module")
def page(runs_dir):
    with streamlit_server(runs_dir, log=runs_dir.parent / "streamlit.log") as url:
        with playwright_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.app_url = url
            yield page
            browser.close()


def tab_through(page) -> tuple[list[str], set[str]]:
    """Press Tab until focus has been everywhere once; returns (every control, the numbers Tab reached)."""
    controls = page.evaluate(TABBABLE_JS)
    reached: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if reached and focused == reached[0]:  # round the whole page once
            break
        reached.append(focused)
    return controls, set(reached) - {None, "new"}


def focus_by_tab(page, locator, limit: int = MAX_TABS) -> None:
    """Press Tab until `locator` has the focus (fails if it never gets it)."""
    handle = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if handle.evaluate("e => e === (e.getRootNode().activeElement)"):
            return
    raise AssertionError(f"Tab never reached {locator}")


@pytest.mark.parametrize("path", PAGES)
def test_tab_alone_reaches_every_control_of_every_page(page, path):
    open_page(page, page.app_url, path)
    wait_for_charts(page)  # the page as it settles: charts load late
    controls, reached = tab_through(page)
    missed = [name for i, name in enumerate(controls) if str(i) not in reached]
    assert not missed, f"Tab never reaches these on /{path}: {missed}"
    tree = page.locator("[data-testid='stMain']").aria_snapshot()
    assert re.search(r'heading "[^"]+" \[level=1\]', tree), tree  # every page says what it is
    unnamed = re.findall(r"- (?:button|link|checkbox|combobox|textbox|switch)(?: \[[^\]]*\])?:?$", tree, re.M)
    assert not unnamed, f"controls without a name on /{path}: {unnamed}\n{tree}"


def test_enter_starts_training_and_space_flips_a_toggle(page, runs_dir):
    open_page(page, page.app_url, "train")
    toggle = page.get_by_role("switch", name="Augmentation")
    before = toggle.is_checked()
    focus_by_tab(page, toggle)
    page.keyboard.press("Space")
    playwright_api.expect(toggle).to_be_checked(checked=not before)
    focus_by_tab(page, page.get_by_role("button", name="Start training"))
    page.keyboard.press("Enter")
    stop = page.get_by_test_id("stMain").get_by_role("button", name="Stop", exact=True)  # not the header's
    stop.wait_for(timeout=60_000)
    assert list(runs_dir.rglob("config.json")), "Enter on Start training started no run"
    focus_by_tab(page, stop)
    page.keyboard.press("Space")
    page.get_by_text(re.compile("Stopp")).first.wait_for(timeout=60_000)


def first_stage(page) -> str:
    """The drawing as the page shows it (stage 1 of what the model sees): it changes with every answer."""
    page.locator(".dl-stage img").first.wait_for()
    return page.locator(".dl-stage img").first.get_attribute("src")


def test_the_spoken_answer_changes_exactly_when_the_digit_does(page):
    from digit_drawings import template_strokes

    open_page(page, page.app_url, "draw")
    region = page.locator("[aria-live='polite'].dl-live")
    assert region.count() == 1 and region.text_content() == ""
    page.evaluate("""() => {  // every text the region shows, in order, and whether it is ever replaced
      const region = document.querySelector('.dl-live');
      window.spoken = [];
      new MutationObserver(() => window.spoken.push(region.textContent))
        .observe(region, {childList: true, characterData: true, subtree: true});
      window.sameRegion = () => document.querySelector('.dl-live') === region;
    }""")
    box = canvas_box(page)
    one = template_strokes("1", 190, (140, 140))
    draw_strokes(page, one, box)
    page.wait_for_function("() => window.spoken.length === 1", timeout=60_000)
    for dx in (4, -4):  # a thicker 1 is still a 1: two more answers, nothing to say
        seen = first_stage(page)
        draw_strokes(page, [[(x + dx, y) for x, y in stroke] for stroke in one], box)
        page.wait_for_function(f"() => document.querySelector('.dl-stage img')?.src !== {seen!r}")
        assert page.locator(".dl-answer").inner_text() == "1"
    draw_strokes(page, [[(50, 45), (145, 45)]], box)  # a bar across the top: now it is a 7
    page.locator(".dl-answer").filter(has_text="7").wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.spoken") == ["The model says 1", "The model says 7"]
    assert page.evaluate("window.sameRegion()")

    undo = page.get_by_role("button", name="Undo")  # the canvas's own toolbar, by keyboard
    focus_by_tab(page, undo)
    assert undo.is_visible()
    page.keyboard.press("Enter")
    page.locator(".dl-answer").filter(has_text="1").wait_for(timeout=30_000)
    focus_by_tab(page, page.get_by_role("button", name="Reset canvas & history"))
    page.keyboard.press("Space")
    page.get_by_text("Draw a digit on the canvas").wait_for(timeout=30_000)
    assert page.evaluate("window.spoken") == ["The model says 1", "The model says 7", "The model says 1", ""]
