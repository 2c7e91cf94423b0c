"""Interactive pictures (pyvis + vis-network, offline and safe with any text in the data)."""
