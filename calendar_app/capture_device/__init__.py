"""The reference capture device (`manage.py capture_device`, docs/devices.md): a CLIENT of this
server over HTTP, as a lecture-capture appliance is. It signs in with an app token, polls its
resource's schedule as iCal, "records" each booking into a synthetic file and uploads it in
chunks with the official Kaltura client.

It imports nothing of the app but its own package (an import-linter contract): what it knows of
the server is the wire, so it works against Kaltura too.
"""
