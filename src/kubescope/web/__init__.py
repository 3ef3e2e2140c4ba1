"""HTTP serving shared by every kubescope server (named ``web`` to stay clear of the stdlib's ``http``)."""
