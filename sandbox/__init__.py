"""A stand-in for SHA's HIE (and, later, Africa's Talking) for demos and tests.

It speaks the same paths and field names as the real services, masks contacts
as SHA does, generates 5-digit OTPs and keeps every SMS it "sends" in a phone
outbox that ``GET /sandbox/messages?to=<E.164>`` shows.
"""

from sandbox.app import create_app

__all__ = ["create_app"]
