"""The project's AWS emulator: moto's standalone server, extended where it does not behave like AWS.

Each module named in ``launcher.EXTENSIONS`` exposes ``install()``, which patches moto's backends,
response classes and URL maps before the server starts. Nothing of moto is forked.
"""
