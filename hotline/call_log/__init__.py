"""Asterisk's own call log (CEL) as the records' second source.

Asterisk writes every call to its log whether or not the service runs; the service reads
it back from a stored position and accounts for each call exactly once: a call it never
saw is rebuilt, one it saw in part is completed, one it saw whole is left alone.

Roles: ``config`` (the settings section), ``cel`` (log lines → the AMI events the record
builder knows; pure), ``engine`` (rebuild / merge / leave; pure), ``reader`` (the file,
its position and rotations), ``store`` (the position and the records in the database),
``follower`` (the periodic pass that ties them together).
"""
