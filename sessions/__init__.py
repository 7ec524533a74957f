"""State the gateway keeps in Redis: keys, USSD sessions, and the client."""
