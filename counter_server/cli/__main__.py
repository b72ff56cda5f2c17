from counter_server.cli import main

main()
