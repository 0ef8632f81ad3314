"""Signals other apps listen to, so that the case lifecycle need not know them."""

from django.dispatch import Signal

# Sent inside the answering transaction with `inquiry`: a listener's writes commit or roll
# back with the answer (the subscriptions app settles exception requests this way).
inquiry_answered = Signal()

# Sent inside the scheduling transaction with `callback` and `actor` (the self-service app
# tells a customer who uses it when he will be called).
callback_scheduled = Signal()
