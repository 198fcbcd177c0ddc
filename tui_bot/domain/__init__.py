"""Venue-neutral types shared by every layer: enums and Decimal models."""
