"""Segment Studio: the router and frame around every page.

Run with ``streamlit run app.py``. Pages live in ``pages/``; ``st.navigation``
lists them explicitly (which switches off Streamlit's automatic pages/ menu) and
gives each a stable URL such as /map. The frame itself (page config, logo,
styles, navigation, the open project, sidebar summary) is ``ui.frame.render_frame``;
``run_page`` runs the page and saves what it changed to the workspace project.
"""

from segmentation.warmup import start_in_background
from ui.frame import render_frame, run_page
from ui.state import studio

start_in_background()  # once per server: the model and UMAP's compiled code get ready while the analyst reads
page = render_frame()
studio().mark_routed()
run_page(page)
