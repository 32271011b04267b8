"""The phone page: today's people, one customer, the outbox, and one-tap actions, over WSGI.

``crm serve`` mounts it beside the feed, at the same secret URL. The files stay the truth:
each page is rendered from the vault as it is at that request, and each action is the same
edit ``crm log``, ``crm snooze`` or ``crm sent`` makes.
"""
