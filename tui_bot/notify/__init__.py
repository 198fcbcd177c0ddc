"""Notification channels for alerts (Telegram, Discord, a JSON webhook): queued, rate-limited, retried, off the
trading path, secrets never printed."""
