"""The only package that knows Bybit's wire format."""
