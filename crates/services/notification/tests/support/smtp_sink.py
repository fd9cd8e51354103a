"""An aiosmtpd handler for the notification service's tests: every message it accepts is
parsed with Python's email package (RFC 2047 subjects, quoted-printable/base64 bodies decoded)
and written to DIR/<n>.json as {mail_from, rcpt_tos, subject, message_id, from, to, body}.

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink DIR
"""

import email
import email.policy
import json
import os


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        os.makedirs(directory, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes one argument: the directory")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(msg["subject"] or ""),
            "message_id": str(msg["message-id"] or ""),
            "from": str(msg["from"] or ""),
            "to": str(msg["to"] or ""),
            "body": part.get_content() if part is not None else "",
        }
        self.count += 1
        tmp = os.path.join(self.directory, ".%d.tmp" % self.count)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.directory, "%d.json" % self.count))
        return "250 Message accepted for delivery"
