"""Segment Studio: the router and frame around every page.

Run with ``streamlit run app.py``. Pages live in ``pages/``; ``st.navigation``
lists them explicitly (which switches off Streamlit's automatic pages/ menu) and
gives each a stable URL such as /map.
"""

from pathlib import Path

import streamlit as st

from ui.state import studio
from ui.widgets import navigation_pages, show_notice, sidebar_summary

ASSETS = Path(__file__).resolve().parent / "assets"

st.set_page_config(page_title="Segment Studio", page_icon=":material/bubble_chart:", layout="wide",
                   initial_sidebar_state="expanded")
if (ASSETS / "logo.svg").exists():
    st.logo(str(ASSETS / "logo.svg"), size="large")
if (ASSETS / "style.css").exists():
    st.html(ASSETS / "style.css")

page = st.navigation(navigation_pages())
sidebar_summary()
show_notice()
studio().mark_routed()
page.run()
