"""The HTTP edge: one blueprint per channel, thin views, errors mapped in one place."""
