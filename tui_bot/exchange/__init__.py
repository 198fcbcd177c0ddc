"""Exchange clients and the errors they raise."""
