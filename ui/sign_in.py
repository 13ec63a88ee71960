"""Sign-in: Streamlit's own st.login / st.user, configured in .streamlit/secrets.toml [auth].

Without an [auth] section and without class accounts ($DIGIT_LAB_CLASS_ACCOUNTS, ui/class_sign_in.py) Digit Lab
is a one-person app: `current_person()` is None and every page works as before, with no extra clicks. With
either or both, `require_person()` (app.py) shows a sign-in screen until the person signs in; pages then pass
`current_person()` to the engine, which shows and lets them change only what is theirs (mnist_core.people).
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from app_security.text import escape_markdown
from mnist_core.accounts import class_accounts_on
from mnist_core.people import Person, person_from_claims
from ui.class_sign_in import class_sign_in_forms, keep_cookie, local_person, sign_out

SHARED_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
HELP = "See “Running Digit Lab for a class” in the README."


def auth_settings() -> Mapping | None:
    """The [auth] section of the secrets, or None when there is none (or no secrets file at all)."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets.toml, or one that is not valid TOML: Streamlit's own error covers the latter
        return None
    return auth if isinstance(auth, Mapping) else None


def providers(auth: Mapping) -> list[str | None]:
    """The providers to offer: None for one unnamed provider, else the names of the [auth.NAME] sections."""
    named = [name for name, value in auth.items() if isinstance(value, Mapping)]
    return named or [None]


def auth_problem(auth: Mapping) -> str | None:
    """What is missing from an [auth] section, in words; None if it is complete."""
    missing = [key for key in SHARED_KEYS if not auth.get(key)]
    for provider in providers(auth):
        section = auth if provider is None else auth[provider]
        missing += [key if provider is None else f"{provider}.{key}" for key in PROVIDER_KEYS if not section.get(key)]
    if not missing:
        return None
    return (
        "Sign-in is switched on in `.streamlit/secrets.toml`, but its `[auth]` section lacks "
        f"{', '.join(f'`{k}`' for k in missing)}. Add them (or remove `[auth]` for a one-person Digit Lab) and "
        f"restart. {HELP}"
    )


def _oidc_signed_in() -> bool:
    return auth_settings() is not None and bool(st.user.get("is_logged_in"))


def current_person() -> Person | None:
    """The signed-in person, or None when sign-in is off (and before anyone signs in)."""
    if _oidc_signed_in():
        return person_from_claims(st.user.to_dict())
    return local_person()


def my_digits_folder():
    """The signed-in person's My digits folder; None (the shared default) with sign-in off."""
    from mnist_core import my_digits  # here: app.py imports this module, and Home must not wait for NumPy

    return my_digits.person_folder(current_person())


def require_person() -> Person | None:
    """In app.py, before any page: None with sign-in off; else the signed-in person, after a sign-in screen."""
    auth, local = auth_settings(), class_accounts_on()
    if auth is None and not local:
        return None
    problem = auth_problem(auth) if auth is not None else None
    if problem:
        st.error(problem, icon=":material/lock:")
        st.stop()
    if not _oidc_signed_in():
        person = local_person()
        keep_cookie()
        if person is None:
            _sign_in_screen(auth, local)
            st.stop()
        _signed_in_as(person, sign_out)
        return person
    try:
        person = person_from_claims(st.user.to_dict())
    except ValueError as error:
        st.error(f"{escape_markdown(error)} {HELP}", icon=":material/lock:")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    _signed_in_as(person, st.logout)
    return person


def _sign_in_screen(auth: Mapping | None, local: bool) -> None:
    st.title("Digit Lab")
    st.markdown(
        "Train neural networks on handwritten digits, draw your own and see what the model thinks. "
        "**Sign in** to keep your own runs and drawings; share a run with the class when you like."
    )
    for provider in providers(auth) if auth is not None else []:
        label = "Sign in" if provider is None else f"Sign in with {provider.replace('_', ' ').title()}"
        st.button(
            label, type="primary", icon=":material/login:", on_click=st.login, args=(provider,) if provider else ()
        )
    if local:
        class_sign_in_forms()


def _signed_in_as(person: Person, sign_out_action) -> None:
    role = " · teacher" if person.is_teacher else ""
    st.sidebar.caption(f":material/account_circle: {escape_markdown(person.label)}{role}")
    st.sidebar.button("Sign out", icon=":material/logout:", on_click=sign_out_action, key="sign_out")
