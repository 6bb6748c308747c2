"""Pure plotly figure builders with one segment palette."""
