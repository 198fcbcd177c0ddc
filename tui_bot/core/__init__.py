"""The headless core: state, engine, order service, streams bookkeeping and health (no Textual)."""
