"""Outreach: message templates, drafts in the outbox, sending by SMTP or tap-to-send links."""
