"""Sign-in with a real OpenID Connect provider (oidc-provider-mock) and a real Streamlit server (issue 15).

Ann, Bob and Tess (a teacher) sign in from their own Chromium contexts. Ann's run is invisible to Bob until
she shares it, then read-only to him by every path (the page, a URL, an engine call as Bob); Tess sees it
and can delete it. Nothing is downloaded: the provider runs in this process on a free localhost port.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest
from browser_utils import (
    chromium_path,
    free_port,
    open_page,
    screenshot,
    select_first_history_row,
    streamlit_server,
)
from queue_utils import RecordingLauncher, use_launcher

from mnist_core import runs
from mnist_core.config import TrainingConfig
from mnist_core.people import person_from_claims

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api")
oidc_mock = pytest.importorskip("oidc_provider_mock")

PEOPLE = {
    "ann": {"email": "ann@school.example", "name": "Ann Lee", "email_verified": True},
    "bob": {"email": "bob@school.example", "name": "Bob Roy", "email_verified": True},
    "tess": {"email": "tess@school.example", "name": "Tess Teacher", "email_verified": True},
}
TINY = TrainingConfig(hidden_units=(8,), epochs=1, train_limit=100)


@pytest.fixture(scope="module")
def provider():
    users = [oidc_mock.User(sub=sub, claims=claims) for sub, claims in PEOPLE.items()]
    with oidc_mock.run_server_in_thread(user_claims=users) as server:
        url = f"http://localhost:{server.server_port}"
        with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=10) as response:
            issuer = json.load(response)["issuer"]
        yield url, issuer


def write_secrets(folder: Path, app_port: int, provider_url: str) -> Path:
    path = folder / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://localhost:{app_port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-enough-length-0123456789"\n'
        'client_id = "digit-lab"\n'
        'client_secret = "digit-lab-secret"\n'
        f'server_metadata_url = "{provider_url}/.well-known/openid-configuration"\n'
    )
    return path


@pytest.fixture(scope="module")
def app(provider, tmp_path_factory):
    if chromium_path() is None:
        pytest.fail("Chromium is not installed: scripts/setup-tests.sh installs it")
    folder = tmp_path_factory.mktemp("signed-in")
    port = free_port()
    secrets = write_secrets(folder, port, provider[0])
    env = {"DIGIT_LAB_TEACHERS": "tess@school.example", "DIGIT_LAB_MY_DIGITS_DIR": str(folder / "my_digits")}
    args = ["--secrets.files", str(secrets)]
    with streamlit_server(folder / "runs", env=env, log=folder / "streamlit.log", args=args, port=port) as url:
        yield url, folder / "runs"


def sign_in(browser, url: str, who: str):
    """A new browser context signed in as `who` through the provider's own form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    open_page(page, url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=who, exact=True).click()  # the provider's predefined-user button
    page.wait_for_url(f"{url}/**", timeout=60_000)
    page.get_by_text(PEOPLE[who]["name"]).first.wait_for(timeout=60_000)  # the sidebar's "signed in as"
    return page


def anns_run(root: Path, issuer: str) -> runs.RunHandle:
    """A finished run of Ann's, made through the engine as her (what the queue would have left)."""
    ann = person_from_claims({"sub": "ann", "iss": issuer, **PEOPLE["ann"]})
    with pytest.MonkeyPatch.context() as patch:
        use_launcher(patch, RecordingLauncher())
        handle = runs.start_run(TINY, "anns digits", root, owner=ann)
    now = time.time()
    handle.files.update_status(state="completed", started_at=now - 5, ended_at=now, message="Completed.")
    return handle


def test_sign_in_separates_people_and_sharing_is_read_only(app, provider, browser):
    url, root = app
    ann_page = sign_in(browser, url, "ann")
    bob_page = sign_in(browser, url, "bob")
    handle = anns_run(root, provider[1])
    bob = person_from_claims({"sub": "bob", "iss": provider[1], **PEOPLE["bob"]})

    open_page(ann_page, url, "train")
    assert ann_page.get_by_text("anns digits").count() > 0
    open_page(bob_page, url, "train")
    assert bob_page.locator("[data-testid=stDataFrame]:visible").count() == 0  # not shared: Bob's history is empty
    with pytest.raises(runs.RunNotFoundError):
        runs.load_run(handle.id, root, viewer=bob)

    select_first_history_row(ann_page)
    ann_page.get_by_text("Share with the class").click()
    deadline = time.monotonic() + 30
    while not runs.load_run(handle.id, root).shared and time.monotonic() < deadline:
        time.sleep(0.2)
    assert runs.load_run(handle.id, root).shared

    open_page(bob_page, url, "train", timeout=120_000)
    bob_page.locator("[data-testid=stDataFrame]:visible").first.wait_for(
        timeout=120_000
    )  # the history grid (drawn on a canvas)
    select_first_history_row(bob_page)
    bob_page.get_by_text("Shared by Ann Lee: you can look, not change.").first.wait_for(timeout=120_000)
    assert bob_page.get_by_role("button", name="Delete").count() == 0
    assert bob_page.get_by_role("button", name="Rename").count() == 0
    screenshot(bob_page, "shared-run-as-another-person")
    as_bob = runs.load_run(handle.id, root, viewer=bob)
    for action in (as_bob.stop, as_bob.delete, lambda: as_bob.rename("bobs now"), lambda: as_bob.share(False)):
        with pytest.raises(runs.RunPermissionError):
            action()
    assert runs.load_run(handle.id, root).name == "anns digits" and handle.path.is_dir()

    tess_page = sign_in(browser, url, "tess")
    open_page(tess_page, url, "train")
    assert tess_page.get_by_text("Tess Teacher · teacher").count() > 0
    tess_page.get_by_text("Everyone's training").wait_for(timeout=30_000)  # the teacher's overview
    tess = person_from_claims({"sub": "tess", "iss": provider[1], **PEOPLE["tess"]}, frozenset({"tess@school.example"}))
    runs.load_run(handle.id, root, viewer=tess).delete()  # a teacher may
    assert not handle.path.exists()
    for page in (ann_page, bob_page, tess_page):
        page.context.close()


def test_a_broken_auth_section_is_a_message_for_everyone(tmp_path, browser):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:1/oauth2callback"\n')
    with streamlit_server(tmp_path / "runs", args=["--secrets.files", str(secrets)]) as url:
        page = browser.new_page()
        open_page(page, url)
        body = page.inner_text("body")
        assert "Sign-in is switched on" in body and "cookie_secret" in body and "client_id" in body
        assert "Train" not in page.inner_text('[data-testid="stMain"]')
        page.close()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
