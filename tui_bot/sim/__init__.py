"""The embedded exchange: a local server that speaks the Bybit v5 wire protocol."""
