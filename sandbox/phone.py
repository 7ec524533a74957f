"""A feature phone in the terminal: dial the gateway's USSD code and read its SMS.

    python -m sandbox.phone                     # John, the English demo worker
    python -m sandbox.phone +254711000001       # Amina, in Swahili
    python -m sandbox.phone --gateway http://127.0.0.1:8000 --inbox +254714123898

Each line typed is one answer, posted as Africa's Talking would post the hop
(the session's answers joined by '*'). An empty line on an END screen dials
again; ``q`` hangs up. ``--inbox`` prints what a phone has received instead.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable

import requests

SERVICE_CODE = "*384*12#"


class Phone:
    def __init__(self, gateway: str, number: str, *, key: str = "",
                 ask: Callable[[str], str] = input, show: Callable[[str], None] = print) -> None:
        self.gateway = gateway.rstrip("/")
        self.number = number
        self.key = key
        self.ask = ask
        self.show = show

    def dial(self) -> str:
        """One whole session, answer by answer, until an END screen or a hang-up."""
        session_id = "sim-" + uuid.uuid4().hex[:12]
        answers: list[str] = []
        screen = self._hop(session_id, "")
        while screen.startswith("CON "):
            self.show(screen[4:])
            typed = self.ask("> ").strip()
            if typed == "q":
                return "hung up"
            answers.append(typed)
            screen = self._hop(session_id, "*".join(answers))
        self.show(screen.removeprefix("END "))

        return screen

    def inbox(self) -> list[dict[str, object]]:
        response = requests.get(f"{self.gateway}/sandbox/messages",
                                params={"to": self.number}, timeout=5)
        response.raise_for_status()
        return response.json()

    def _hop(self, session_id: str, text: str) -> str:
        response = requests.post(
            f"{self.gateway}/ussd", params={"key": self.key} if self.key else None,
            data={"sessionId": session_id, "serviceCode": SERVICE_CODE,
                  "phoneNumber": self.number, "networkCode": "99999", "text": text},
            timeout=20)
        if response.status_code != 200:
            return f"END (the network says {response.status_code}: {response.text[:80]})"

        return response.text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("number", nargs="?", default="+254711000002")
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default="", help="the gateway's CALLBACK_KEY, if it has one")
    parser.add_argument("--inbox", metavar="NUMBER", help="print this phone's SMS and stop")
    args = parser.parse_args(argv)

    if args.inbox:
        for message in Phone(args.gateway, args.inbox).inbox():
            print(f"from {message['from']}: {message['text']}")
        return 0
    phone = Phone(args.gateway, args.number, key=args.key)
    while phone.dial() != "hung up" and input("\n(Enter dials again, q stops) ") != "q":
        pass

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
