"""Live supervision: a supervisor listens to, whispers to or barges into an agent's call.

Roles: ``config`` (the supervisors' phones), ``modes`` (pure: what each mode asks of
ChanSpy), ``store`` (the log of every session), ``api`` (``POST
/api/v1/calls/{linkedid}/supervise``), ``feature`` (wiring). The service originates a
call to the supervisor's phone; once answered it runs ChanSpy on the agent's channel
(``dialplan-inbound.conf`` [hotline-supervise]). Agents are never offered it.
"""
