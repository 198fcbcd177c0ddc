"""Live state and commands between processes over Redis: the listener publishes, bots and consoles read and ask."""
