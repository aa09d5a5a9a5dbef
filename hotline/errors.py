"""The project's exceptions, in one hierarchy.

HotlineError
├── ConfigError          settings or a config file is invalid; carries every problem found
├── DatabaseError        the database refused or is unreachable (converted at the repository)
├── AmiError             the AMI connection failed or an action was refused
│   ├── AmiNotConnected  an action was attempted while the connection is down
│   └── UnsafeAmiHeader  an action could smuggle another (a CR/LF, a control character):
│                        refused by the client before anything was sent
├── AgiError             a FastAGI exchange failed
│   └── AgiHangup        the channel hung up mid-flow (flows end cleanly on it)
└── SandboxError         the embedded Asterisk could not be installed, started or reached

Lower-layer errors (SQLAlchemy, OSError, panoramisk) are converted at the module that
talks to that layer with ``raise ... from``, so callers catch only these.
"""

from __future__ import annotations

__all__ = [
    "AgiError",
    "AgiHangup",
    "AmiError",
    "AmiNotConnected",
    "ConfigError",
    "DatabaseError",
    "HotlineError",
    "SandboxError",
    "UnsafeAmiHeader",
]


class HotlineError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(HotlineError):
    """Invalid settings; ``problems`` holds one line per error, each naming its key path."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class DatabaseError(HotlineError):
    """The database could not carry out a repository operation."""


class AmiError(HotlineError):
    """An AMI connection or action failed."""


class AmiNotConnected(AmiError):
    """The AMI connection is down; nothing was sent."""


class UnsafeAmiHeader(AmiError, ValueError):
    """An action name, header or value that AMI could read as more than one action (or as
    something else than it is); nothing was sent. Also a ``ValueError``: it is bad input."""


class AgiError(HotlineError):
    """A FastAGI exchange failed (bad input, protocol error, timeout)."""


class AgiHangup(AgiError):
    """The caller hung up; the flow stops and its record is still written."""


class SandboxError(HotlineError):
    """The sandbox Asterisk could not be installed, started or reached."""
