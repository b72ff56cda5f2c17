"""``python -m display --server URL --token T``: the lobby display."""
from display.app import main

main()
