"""Clients for the services we call: SHA's Health Information Exchange."""
