"""Digit Lab: train neural networks on MNIST, draw digits, browse the mistakes.

Run with `streamlit run app.py`. This file sets up the page, the navigation and the shared
sidebar; each page lives in pages/, the code pages share in ui/, the engine in mnist_core/. Nothing here
imports TensorFlow or loads data, so Home opens fast.
"""

import streamlit as st

from app_security.host_check import install_host_check
from app_security.text import escape_markdown
from mnist_core import runs
from ui.app_shell import app_pages
from ui.server_tuning import keep_keras_state
from ui.sign_in import require_person
from ui.warm_start import warm_start

install_host_check()  # refuse requests for foreign Host names (DNS rebinding); once per server
keep_keras_state()  # no keras.backend.clear_session() after every script run; once per server

st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")
warm_start()  # TensorFlow and the starter model load in a background thread, once per server

person = require_person()  # None with sign-in off; else a sign-in screen first

st.session_state["app_shell"] = True  # pages check it: see ui/app_shell.py
page = st.navigation(list(app_pages(teacher=person is None or person.is_teacher).values()), position="sidebar")

training = runs.active_run(viewer=person)
if training is not None:
    st.sidebar.caption(f":blue-badge[:material/sync: Training] {escape_markdown(training.name)}")

page.run()
