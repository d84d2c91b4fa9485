"""The outbound seam: bookings pushed to an upstream Kaltura (client, outbox drain, push, pull, reconcile)."""
