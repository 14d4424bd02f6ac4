"""Views: what a reader sees. ``charts`` (matplotlib figures in one house style) and ``tables`` (tables and
prose with data in them, escaped). Views take model results and never compute them."""
