"""Plot data laid out in SVG pixels: scales, ticks, paths and rectangles for `_plot.html`.

The template only writes elements; every coordinate is computed here, in one place.
`layout(plot)` dispatches on the kind of plot; importing the modules below registers them.
"""

from app.web.charts import axes, cells
from app.web.charts.frame import PATTERNS, Scale, layout, nice_scale

__all__ = ["PATTERNS", "Scale", "axes", "cells", "layout", "nice_scale"]
