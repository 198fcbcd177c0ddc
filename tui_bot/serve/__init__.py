"""`tui-bot serve`: the console in a browser (textual-serve) behind a secret token and an Origin check."""
