"""Lines → the payment list, totals, and the run folder with its manifest."""
