from kxgraph.api.cli import main

main()
