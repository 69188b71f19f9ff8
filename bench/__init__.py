"""What the app's own layers cost per request, measured beside bare Flask (``make bench``)."""
