"""One module per command-line verb, each with ``run(args) -> int``.

They sit in the pipeline layer: they read files through ``helpers.data``, call the models and print. The
``cli`` module parses arguments and imports a command module only when that command runs, so that
``ballotbook --help`` and a no-op ``build`` stay fast.
"""
