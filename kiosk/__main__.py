"""``python -m kiosk``: the same as ``motcua kiosk``."""
from kiosk.app import main

main()
