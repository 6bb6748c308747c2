"""Home: what Segment Studio does, in three steps, and the quickest way in."""

import streamlit as st

from ui.state import studio
from ui.widgets import PAGES, ensure_routed, load_demo, show_load_error, upload_box

ensure_routed()
st.title("Segment Studio")
st.markdown("##### Find the groups in your customer base — from their numbers *and* their words — "
            "on your own computer.")

steps = st.columns(3)
for column, (icon, title, text) in zip(steps, [
    (":material/upload_file:", "1 · Load",
     "Upload a customer file (CSV, Excel, Parquet) or order lines. Columns get a role; personal data is masked."),
    (":material/hub:", "2 · Segment",
     "Blend structured fields with free-text feedback, pick an algorithm, and run. Settings are remembered."),
    (":material/insights:", "3 · Explore and share",
     "See customers on a map, read each segment's profile, name it, check quality, and export the labels."),
]):
    with column.container(border=True, height="stretch"):
        st.markdown(f"### {icon}")
        st.markdown(f"**{title}**")
        st.caption(text)

st.write("")
dataset = studio().dataset
left, right = st.columns([2, 3], gap="large")
with left:
    st.markdown("#### Try it in one click")
    st.caption("2,000 fictional customers of an online shop, with spend, orders, channel and a review each.")
    if st.button("Use demo data", type="primary", icon=":material/rocket_launch:", key="home_demo",
                 width="stretch"):
        if load_demo():
            st.switch_page(PAGES["data"])
    if dataset is not None:
        st.page_link(PAGES["segment"], label=f"Continue with {dataset.name}", icon=":material/arrow_forward:")
with right:
    st.markdown("#### Or bring your own file")
    if upload_box("home_upload"):
        st.switch_page(PAGES["data"])
    show_load_error()

st.caption("Nothing leaves this machine: files, models and results stay local.")
