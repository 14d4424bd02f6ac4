"""Views: what a reader sees. ``charts`` (matplotlib figures in one house style) and ``tables`` (tables and
prose with data in them, escaped). Views take model results and never compute them."""

#: The id of the bottom-line box, the first thing under a report's title (render keeps this id and no other).
#: Here, not in ``tables``, so that rendering a page needs no pandas.
ANSWER_ID = "answer"
