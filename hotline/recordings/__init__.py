"""Call recordings: Asterisk's MixMonitor writes them, this package accounts for them.

Roles: ``config`` (the ``recording`` settings section), ``files`` (pure: naming a
recording, reading a WAV's length, judging a finished recording), ``store`` (the
``call_recordings`` rows and the playback audit), ``sweeper`` (after a call ends: the
file's size and length onto the record, or why it failed; retention cleanup),
``feature`` (wiring: background passes, health, metrics), ``api`` (playback).

Asterisk names the file (the dialplan, from the call's linkedid) and sets
``HOTLINE_RECORDING`` once a recording has started; the call record keeps that name
(``recording_file``), so a call the service never saw still names its recording.
"""
